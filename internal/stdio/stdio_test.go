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

// inheritedPipe is a pipe as a child process inherits it: blocking, so
// that Go opens it as a plain blocking file.
func inheritedPipe(t *testing.T) (read *os.File, write *os.File) {
	t.Helper()
	var fds [2]int
	require.NoError(t, syscall.Pipe(fds[:]))
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	read, write = os.NewFile(uintptr(fds[0]), "read"), os.NewFile(uintptr(fds[1]), "write")
	require.False(t, isPollable(read), "a blocking descriptor opens as a blocking file")
	t.Cleanup(func() { read.Close(); write.Close() })
	return read, write
}

func inheritedSocket(t *testing.T) *os.File {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	peer := os.NewFile(uintptr(fds[1]), "peer")
	own := os.NewFile(uintptr(fds[0]), "socket")
	t.Cleanup(func() { own.Close(); peer.Close() })
	return own
}

// dupOf opens f's descriptor again, as another process sharing it would.
// It reaches the descriptor through SyscallConn: Fd would put it in
// blocking mode.
func dupOf(t *testing.T, f *os.File) *os.File {
	t.Helper()
	raw, err := f.SyscallConn()
	require.NoError(t, err)
	var fd int
	var dupErr error
	require.NoError(t, raw.Control(func(orig uintptr) { fd, dupErr = syscall.Dup(int(orig)) }))
	require.NoError(t, dupErr)
	dup := os.NewFile(uintptr(fd), f.Name()+" dup")
	t.Cleanup(func() { dup.Close() })
	return dup
}

// nonblocking reports the open file's mode as a fresh descriptor sees it:
// Go opens a non-blocking descriptor as a pollable file.
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	return isPollable(dupOf(t, f))
}

func TestPollableTakesOnlyPipesAndSockets(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "input"))
	require.NoError(t, err)
	t.Cleanup(func() { regular.Close() })
	device, err := os.Open(os.DevNull)
	require.NoError(t, err)
	t.Cleanup(func() { device.Close() })
	alreadyPollable, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { alreadyPollable.Close(); w.Close() })
	pipe, _ := inheritedPipe(t)

	tests := []struct {
		name     string
		in       *os.File
		replaced bool
	}{
		{"inherited pipe", pipe, true},
		{"inherited socket", inheritedSocket(t), true},
		{"regular file", regular, false},
		{"character device (as a terminal is)", device, false},
		{"pipe Go already polls", alreadyPollable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, restore := Pollable(Files{In: tt.in})
			defer restore()
			if !tt.replaced {
				assert.Same(t, tt.in, got.In)
				assert.Equal(t, isPollable(tt.in), nonblocking(t, tt.in), "the mode is unchanged")
				return
			}
			assert.NotSame(t, tt.in, got.In)
			assert.True(t, isPollable(got.In), "reads wait in the poller")
			restore()
			assert.False(t, nonblocking(t, tt.in), "restore puts the descriptor back in blocking mode")
		})
	}
}

func TestPollableStdinStillReadsToEOF(t *testing.T) {
	in, w := inheritedPipe(t)
	got, restore := Pollable(Files{In: in})
	defer restore()
	go func() {
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
		w.Close()
	}()
	data, err := io.ReadAll(got.In)
	require.NoError(t, err)
	assert.Equal(t, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n", string(data))
}

// An Out that is In's socket shares its mode, so it must become pollable
// too; a separate Err keeps its mode.
func TestPollableFollowsStreamsSharingStdin(t *testing.T) {
	socket := inheritedSocket(t)
	sameSocket := dupOf(t, socket)
	_, separate := inheritedPipe(t)

	got, restore := Pollable(Files{In: socket, Out: sameSocket, Err: separate})
	defer restore()

	assert.True(t, isPollable(got.In))
	assert.NotSame(t, sameSocket, got.Out)
	assert.True(t, isPollable(got.Out), "a write to the shared socket waits instead of failing with EAGAIN")
	assert.Same(t, separate, got.Err)
	assert.False(t, nonblocking(t, separate))
}
