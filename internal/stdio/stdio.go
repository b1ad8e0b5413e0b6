// Package stdio lets a stdio server wait for its next message in the Go
// runtime's network poller rather than in a blocking read(2).
//
// Go opens an inherited pipe as a blocking file. Each read then parks an OS
// thread in the kernel, and the runtime hands that thread's processor to
// another thread while it waits. That is two more context switches for every
// message, about 50 µs of CPU for each tools/call over stdio on the
// benchmark machine (BENCHMARKS.md). A non-blocking descriptor registered
// with the poller costs nothing while idle.
package stdio

import (
	"os"
	"time"
)

// Files are a process's standard streams.
type Files struct {
	In, Out, Err *os.File
}

// Pollable returns std with In replaced by a pollable twin when In is a
// pipe or a socket, as it is when an MCP client spawns the server, and
// the func that puts the descriptor back in blocking mode. A terminal or a
// regular file is left alone: a terminal's mode is shared with the shell
// that outlives the server.
//
// O_NONBLOCK belongs to the open file, not to the descriptor, so Out or
// Err that is the same pipe or socket as In becomes pollable too; a
// blocking-mode write to it could otherwise fail with EAGAIN.
func Pollable(std Files) (Files, func()) {
	if std.In == nil || !isPipeOrSocket(std.In) || isPollable(std.In) {
		return std, func() {}
	}
	shared := []*os.File{std.In}
	for _, f := range []*os.File{std.Out, std.Err} {
		if f != nil && sameFile(f, std.In) {
			shared = append(shared, f)
		}
	}
	twins := make(map[*os.File]*os.File, len(shared))
	for _, f := range shared {
		if err := setNonblock(f, true); err != nil {
			for done := range twins {
				_ = setNonblock(done, false)
			}
			return std, func() {}
		}
		twins[f] = os.NewFile(f.Fd(), f.Name())
	}
	restore := func() {
		for f := range twins {
			_ = setNonblock(f, false)
		}
	}
	swap := func(f *os.File) *os.File {
		if twin, ok := twins[f]; ok {
			return twin
		}
		return f
	}
	return Files{In: swap(std.In), Out: swap(std.Out), Err: swap(std.Err)}, restore
}

func isPipeOrSocket(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0
}

// isPollable reports whether f already waits in the poller: Go does so for
// a descriptor that was non-blocking when it was opened. Only a pollable
// file takes deadlines.
func isPollable(f *os.File) bool {
	return f.SetReadDeadline(time.Time{}) == nil
}

func sameFile(a, b *os.File) bool {
	ia, errA := a.Stat()
	ib, errB := b.Stat()
	return errA == nil && errB == nil && os.SameFile(ia, ib)
}
