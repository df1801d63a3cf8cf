package seat

import "sync"

// eventQueue decouples the goroutines that receive session-manager messages
// from the consumer: a slow consumer must never block the D-Bus or seatd
// reader, or replies to our own calls would stall behind it.
type eventQueue struct {
	out chan Event

	mu      sync.Mutex
	pending []Event
	wake    chan struct{}
	closed  bool
	done    chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{
		out:  make(chan Event),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	go q.pump()
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.pending = append(q.pending, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close stops delivery; pending events are dropped and out is closed.
func (q *eventQueue) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.mu.Unlock()
	close(q.done)
}

func (q *eventQueue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		var next *Event
		if len(q.pending) > 0 {
			e := q.pending[0]
			q.pending = q.pending[1:]
			next = &e
		}
		q.mu.Unlock()
		if next == nil {
			select {
			case <-q.wake:
				continue
			case <-q.done:
				return
			}
		}
		select {
		case q.out <- *next:
		case <-q.done:
			return
		}
	}
}
