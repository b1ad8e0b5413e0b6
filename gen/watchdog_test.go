package gen

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWatchdogEndsOnlyAttemptsPastTheirDeadline(t *testing.T) {
	const long = time.Hour
	tests := []struct {
		name      string
		timeouts  []time.Duration // one attempt each, started in this order
		release   []int           // attempts released before any deadline
		wantEnded []bool          // by the cause DeadlineExceeded
	}{
		{"one attempt past its deadline", []time.Duration{20 * time.Millisecond}, nil, []bool{true}},
		{"a shorter deadline after a longer one re-arms earlier", []time.Duration{long, 20 * time.Millisecond}, nil, []bool{false, true}},
		{"a longer deadline after a shorter one waits its turn", []time.Duration{20 * time.Millisecond, 60 * time.Millisecond, long}, nil, []bool{true, true, false}},
		{"a released attempt is never ended", []time.Duration{300 * time.Millisecond, 400 * time.Millisecond}, []int{0}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWatchdog()
			ctxs := make([]context.Context, len(tt.timeouts))
			releases := make([]context.CancelFunc, len(tt.timeouts))
			for i, timeout := range tt.timeouts {
				ctxs[i], releases[i] = w.watch(context.Background(), timeout)
			}
			defer func() {
				for _, release := range releases {
					release()
				}
			}()
			for _, i := range tt.release {
				releases[i]()
			}
			for i, want := range tt.wantEnded {
				if want {
					select {
					case <-ctxs[i].Done():
					case <-time.After(10 * time.Second):
						t.Fatalf("attempt %d outlived its deadline", i)
					}
				}
			}
			for i, want := range tt.wantEnded {
				assert.Equal(t, want, context.Cause(ctxs[i]) == context.DeadlineExceeded, "attempt %d", i)
				if want {
					assert.Equal(t, context.DeadlineExceeded, ctxs[i].Err(), "attempt %d reports what context.WithTimeout would", i)
				}
			}
			for _, i := range tt.release {
				assert.ErrorIs(t, ctxs[i].Err(), context.Canceled, "a released attempt's context is done")
			}
		})
	}
}

func TestWatchdogForgetsReleasedAttemptsAndKeepsParentCancellation(t *testing.T) {
	w := newWatchdog()
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, release := w.watch(parent, time.Hour)
	cancelParent()
	<-ctx.Done()
	assert.ErrorIs(t, context.Cause(ctx), context.Canceled, "the caller's cancellation is not a timeout")
	release()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Empty(t, w.pending)
}

func TestAttemptContextReportsTheEarlierDeadline(t *testing.T) {
	w := newWatchdog()
	soon := time.Now().Add(time.Minute)
	tests := []struct {
		name    string
		parent  func() (context.Context, context.CancelFunc)
		timeout time.Duration
		want    time.Time
	}{
		{"its own timeout", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, time.Hour, time.Now().Add(time.Hour)},
		{"the caller's, when sooner", func() (context.Context, context.CancelFunc) { return context.WithDeadline(context.Background(), soon) }, time.Hour, soon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancelParent := tt.parent()
			defer cancelParent()
			ctx, release := w.watch(parent, tt.timeout)
			defer release()
			deadline, ok := ctx.Deadline()
			require.True(t, ok)
			assert.WithinDuration(t, tt.want, deadline, 5*time.Second)
		})
	}
}
