//go:build unix

package stdio

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// kqueue never reports EOF on a named pipe (golang.org/issue/24164), so Go
// itself does not poll one on Apple systems.
var fifosPollable = runtime.GOOS != "darwin" && runtime.GOOS != "ios"

// pollableTwin opens f's descriptor again, non-blocking, as a pollable
// file. The twin owns a descriptor of its own, so closing either file
// never closes the other's.
func pollableTwin(f *os.File) (*os.File, func(), error) {
	fd, err := syscall.Dup(int(f.Fd())) // f is not pollable: Fd leaves its mode alone
	if err != nil {
		return nil, nil, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, nil, err
	}
	twin := os.NewFile(uintptr(fd), f.Name())
	if !Polled(twin) {
		// The poller refused it; a blocking-mode read would now fail with EAGAIN.
		_ = syscall.SetNonblock(fd, false)
		twin.Close()
		return nil, nil, errors.New("stdin cannot be polled")
	}
	return twin, func() {
		_ = syscall.SetNonblock(fd, false)
		twin.Close()
	}, nil
}
