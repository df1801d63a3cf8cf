package wl

// QueueRelease queues wl_buffer.release without making the client's
// connection due for writing (protocol.Writer.Queue): the client reads
// it with the next event sent, the frame callback it is waiting for.
// Written by hand beside the generated bindings, which send every event.
func (r *Buffer) QueueRelease() {
	w := r.NewEvent(0)
	w.Queue()
}
