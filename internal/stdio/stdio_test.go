//go:build unix

package stdio

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closeOnExec creates descriptors as a parent would hand them to a child,
// but keeps them from leaking into processes other tests start.
func closeOnExec(t *testing.T, create func() ([]int, error)) []int {
	t.Helper()
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := create()
	require.NoError(t, err)
	for _, fd := range fds {
		syscall.CloseOnExec(fd)
	}
	return fds
}

// inheritedPipe is a pipe as a child process inherits it: blocking, so
// that Go opens it as a plain blocking file.
func inheritedPipe(t *testing.T) (read, write *os.File) {
	t.Helper()
	fds := closeOnExec(t, func() ([]int, error) {
		fds := make([]int, 2)
		return fds, syscall.Pipe(fds)
	})
	read, write = os.NewFile(uintptr(fds[0]), "read"), os.NewFile(uintptr(fds[1]), "write")
	t.Cleanup(func() { read.Close(); write.Close() })
	return read, write
}

func inheritedSocket(t *testing.T) *os.File {
	t.Helper()
	fds := closeOnExec(t, func() ([]int, error) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		return fds[:], err
	})
	own, peer := os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { own.Close(); peer.Close() })
	return own
}

// sharing opens f's descriptor again, as another process sharing the open
// file would hold it.
func sharing(t *testing.T, f *os.File) *os.File {
	t.Helper()
	var fd int
	control(t, f, func(orig int) {
		var err error
		fd, err = syscall.Dup(orig)
		require.NoError(t, err)
	})
	dup := os.NewFile(uintptr(fd), f.Name()+" (shared)")
	t.Cleanup(func() { dup.Close() })
	return dup
}

// control reaches f's descriptor without Fd, which would make it blocking.
func control(t *testing.T, f *os.File, use func(fd int)) {
	t.Helper()
	raw, err := f.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, raw.Control(func(fd uintptr) { use(int(fd)) }))
}

// nonblocking reads O_NONBLOCK, a property of the open file that every
// descriptor sharing it sees.
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	var flags uintptr
	control(t, f, func(fd int) {
		var errno syscall.Errno
		flags, _, errno = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
		require.Zero(t, errno)
	})
	return flags&syscall.O_NONBLOCK != 0
}

func TestPollStdinTakesOnlyAPipeOrSocketOfItsOwn(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "input"))
	require.NoError(t, err)
	t.Cleanup(func() { regular.Close() })
	device, err := os.Open(os.DevNull)
	require.NoError(t, err)
	t.Cleanup(func() { device.Close() })
	alreadyPolled, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { alreadyPolled.Close(); w.Close() })
	pipe, _ := inheritedPipe(t)
	socket := inheritedSocket(t)
	sharedWithStdout := inheritedSocket(t)
	sharedWithStderr, _ := inheritedPipe(t)

	tests := []struct {
		name   string
		stdin  *os.File
		others []*os.File
		polled bool // PollStdin made a twin
		waits  bool // Polled: reads wait in the poller, twin or not
	}{
		{"inherited pipe", pipe, []*os.File{regular, device}, true, true},
		{"inherited socket", socket, nil, true, true},
		{"regular file", regular, nil, false, false},
		{"character device (as a terminal is)", device, nil, false, false},
		{"pipe Go already polls", alreadyPolled, nil, false, true},
		{"socket that is also stdout", sharedWithStdout, []*os.File{sharing(t, sharedWithStdout), nil}, false, false},
		{"pipe that is also stderr", sharedWithStderr, []*os.File{nil, sharing(t, sharedWithStderr)}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			modeBefore := nonblocking(t, tt.stdin)
			got, restore := PollStdin(tt.stdin, tt.others...)
			defer restore()
			assert.Equal(t, tt.waits, Polled(got))
			if !tt.polled {
				assert.Same(t, tt.stdin, got)
				assert.Equal(t, modeBefore, nonblocking(t, tt.stdin), "the mode is unchanged")
				return
			}
			assert.NotSame(t, tt.stdin, got)
			assert.True(t, Polled(got), "reads wait in the poller")
			assert.True(t, nonblocking(t, tt.stdin), "the twin shares stdin's open file")
			restore()
			assert.False(t, nonblocking(t, tt.stdin), "restore puts stdin back in blocking mode")
			_, err := got.Read(make([]byte, 1))
			assert.ErrorIs(t, err, os.ErrClosed, "restore closes the twin")
			_, err = tt.stdin.Stat()
			assert.NoError(t, err, "and leaves stdin open")
		})
	}
}

func TestPolledStdinReadsToEOF(t *testing.T) {
	stdin, w := inheritedPipe(t)
	got, restore := PollStdin(stdin)
	defer restore()
	require.True(t, Polled(got))
	go func() {
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
		w.Close()
	}()
	data, err := io.ReadAll(got)
	require.NoError(t, err)
	assert.Equal(t, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n", string(data))
}
