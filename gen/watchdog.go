package gen

import (
	"context"
	"sync"
	"time"
)

// watchdog ends attempts that outlive their deadline, with one timer for
// all of them. A context.WithTimeout per attempt adds a runtime timer per
// call, and each new timer wakes the network poller thread: a write
// syscall and a thread switch, about 30 µs of CPU per call in a real
// process (BENCHMARKS.md). Here the timer is re-armed only when it fires,
// about once per timeout under steady load.
type watchdog struct {
	mu      sync.Mutex
	pending map[*attemptDeadline]struct{}
	timer   *time.Timer
	armedAt time.Time // zero while the timer is stopped or spent
}

type attemptDeadline struct {
	at     time.Time
	cancel context.CancelCauseFunc
}

func newWatchdog() *watchdog {
	return &watchdog{pending: make(map[*attemptDeadline]struct{})}
}

// watch returns a context that ends with context.DeadlineExceeded after
// timeout, like context.WithTimeout, and the func that releases it.
func (w *watchdog) watch(parent context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancelCause(parent)
	d := &attemptDeadline{at: time.Now().Add(timeout), cancel: cancel}
	ctx := &attemptContext{Context: inner, deadline: d.at}
	if parentDeadline, ok := parent.Deadline(); ok && parentDeadline.Before(d.at) {
		ctx.deadline = parentDeadline
	}
	w.mu.Lock()
	w.pending[d] = struct{}{}
	if w.armedAt.IsZero() || d.at.Before(w.armedAt) {
		w.arm(d.at)
	}
	w.mu.Unlock()
	return ctx, func() {
		w.mu.Lock()
		delete(w.pending, d)
		w.mu.Unlock()
		cancel(context.Canceled)
	}
}

// fire ends the attempts that are due and re-arms for the earliest of the rest.
func (w *watchdog) fire() {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armedAt = time.Time{}
	var next time.Time
	for d := range w.pending {
		if !now.Before(d.at) {
			d.cancel(context.DeadlineExceeded)
			delete(w.pending, d)
			continue
		}
		if next.IsZero() || d.at.Before(next) {
			next = d.at
		}
	}
	if !next.IsZero() {
		w.arm(next)
	}
}

// arm must be called with w.mu held.
func (w *watchdog) arm(at time.Time) {
	w.armedAt = at
	if w.timer == nil {
		w.timer = time.AfterFunc(time.Until(at), w.fire)
		return
	}
	w.timer.Reset(time.Until(at))
}

// attemptContext reports its deadline and, once past it, the error
// context.WithTimeout would: net.Dialer spreads a dial over a host's
// addresses by Deadline, and parts of net/http (HTTP/2) return Err, not
// context.Cause.
type attemptContext struct {
	context.Context
	deadline time.Time
}

func (c *attemptContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *attemptContext) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
