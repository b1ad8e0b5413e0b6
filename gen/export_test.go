package gen

import (
	"context"
	"time"
)

// SetSleep replaces the retry sleep so tests can observe delays without
// waiting them out.
func SetSleep(v *Vast, sleep func(context.Context, time.Duration) error) {
	v.api.Client.(*retryingDoer).sleep = sleep
}
