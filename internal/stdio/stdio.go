// Package stdio lets a stdio server wait for its next message in the Go
// runtime's network poller rather than in a blocking read(2).
//
// Go opens an inherited pipe as a blocking file. Each read then parks an OS
// thread in the kernel, and the runtime hands that thread's processor to
// another thread while it waits: two more context switches for every
// message, 50–80 µs of CPU per tools/call on the benchmark machine
// (BENCHMARKS.md). A non-blocking descriptor in the poller costs nothing
// while idle.
package stdio

import (
	"os"
	"time"
)

// PollStdin returns a twin of stdin that waits in the poller, and the func
// that puts stdin back in blocking mode and closes the twin. It does so
// only for a pipe or socket of stdin's own, as an MCP client creates when
// it spawns a server; otherwise it returns stdin itself and a no-op:
//
//   - a terminal, regular file or device (/dev/null): a terminal's mode is
//     shared with the shell that outlives the server, and the poller takes
//     no files or devices;
//   - a stdin Go already polls (it was non-blocking when the process began);
//   - a stdin that is the same file (os.SameFile) as one of others, the
//     process's stdout and stderr: O_NONBLOCK belongs to the open file, and
//     writes to it through a blocking *os.File (the log package, panics)
//     could then fail with EAGAIN;
//   - named pipes on macOS, where kqueue never reports their EOF; and
//     everything on systems without non-blocking descriptors (Windows).
//
// Call the func when done reading. It sets blocking mode whatever another
// holder of the same pipe may have set meanwhile.
func PollStdin(stdin *os.File, others ...*os.File) (*os.File, func()) {
	unchanged := func() (*os.File, func()) { return stdin, func() {} }
	if stdin == nil {
		return unchanged()
	}
	info, err := stdin.Stat()
	if err != nil || !pollableKind(info.Mode()) || Polled(stdin) {
		return unchanged()
	}
	for _, other := range others {
		if other == nil {
			continue
		}
		if otherInfo, err := other.Stat(); err != nil || os.SameFile(info, otherInfo) {
			return unchanged()
		}
	}
	twin, restore, err := pollableTwin(stdin)
	if err != nil {
		return unchanged()
	}
	return twin, restore
}

func pollableKind(mode os.FileMode) bool {
	return mode&os.ModeSocket != 0 || mode&os.ModeNamedPipe != 0 && fifosPollable
}

// Polled reports whether reading f waits in the runtime's poller, as
// PollStdin's twin does, rather than in a thread blocked in read(2): only
// a polled file takes deadlines.
func Polled(f *os.File) bool {
	return f.SetReadDeadline(time.Time{}) == nil
}
