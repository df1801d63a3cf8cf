package eventloop

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newLoop(t *testing.T) *Loop {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestTimersFireInDeadlineOrder(t *testing.T) {
	l := newLoop(t)
	var got []int
	base := Now()
	for _, i := range []int{3, 1, 4, 0, 2} {
		tm := l.NewTimer(func() { got = append(got, i) })
		tm.Set(base + time.Duration(i)*2*time.Millisecond)
	}
	for len(got) < 5 {
		if err := l.Dispatch(time.Second); err != nil {
			t.Fatal(err)
		}
		if Now()-base > 2*time.Second {
			t.Fatalf("timers did not fire: got %v", got)
		}
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("fired in order %v, want 0..4", got)
		}
	}
}

func TestTimerStopAndReset(t *testing.T) {
	l := newLoop(t)
	fired := 0
	a := l.NewTimer(func() { fired++ })
	a.SetAfter(time.Millisecond)
	a.Stop()
	if a.Armed() {
		t.Fatal("stopped timer still armed")
	}
	b := l.NewTimer(func() {})
	b.SetAfter(20 * time.Millisecond)
	start := Now()
	for Now()-start < 10*time.Millisecond {
		l.Dispatch(5 * time.Millisecond)
	}
	if fired != 0 {
		t.Fatal("a stopped timer fired")
	}
	// Moving a deadline earlier re-arms the shared timerfd.
	a.SetAfter(time.Hour)
	a.Set(Now())
	l.Dispatch(time.Second)
	if fired != 1 {
		t.Fatalf("re-armed timer fired %d times, want 1", fired)
	}
}

func TestIdleLoopDoesNotWake(t *testing.T) {
	l := newLoop(t)
	iterations := 0
	l.AfterDispatch(func() { iterations++ })
	// A disarmed timer must not leave the timerfd armed.
	tm := l.NewTimer(func() {})
	tm.SetAfter(time.Millisecond)
	tm.Stop()
	l.Dispatch(50 * time.Millisecond)
	if iterations != 1 {
		t.Fatalf("%d iterations", iterations)
	}
	var buf [8]byte
	if _, err := unix.Read(l.timerfd, buf[:]); err != unix.EAGAIN {
		t.Fatalf("timerfd fired with no armed timer (read err %v)", err)
	}
}

func TestPostFromOtherGoroutines(t *testing.T) {
	l := newLoop(t)
	const n = 1000
	count := 0
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				l.Post(func() { count++ })
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); l.Post(func() { close(done) }) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.Dispatch(100 * time.Millisecond)
		select {
		case <-done:
			if count != n {
				t.Fatalf("ran %d posted functions, want %d", count, n)
			}
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d posted functions ran", count, n)
		}
	}
}

func TestFDSourceReadableAndRemove(t *testing.T) {
	l := newLoop(t)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	reads := 0
	src, err := l.AddFD(p[0], Readable, func(ev Events) {
		if ev&Readable == 0 {
			t.Errorf("events %#x without Readable", ev)
		}
		var b [16]byte
		unix.Read(p[0], b[:])
		reads++
	})
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(p[1], []byte("x"))
	l.Dispatch(time.Second)
	if reads != 1 {
		t.Fatalf("%d reads after one write", reads)
	}
	src.Remove()
	unix.Write(p[1], []byte("y"))
	l.Dispatch(20 * time.Millisecond)
	if reads != 1 {
		t.Fatal("handler ran after Remove")
	}
}

func TestRunStopsAndReturnsError(t *testing.T) {
	l := newLoop(t)
	want := unix.EIO
	l.Post(func() { l.Stop(want) })
	if err := l.Run(); err != want {
		t.Fatalf("Run = %v, want %v", err, want)
	}
}

func BenchmarkTimerAndPost(b *testing.B) {
	l, _ := New()
	defer l.Close()
	tm := l.NewTimer(func() {})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tm.Set(Now())
		l.Dispatch(time.Second)
	}
}
