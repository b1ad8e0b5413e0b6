//go:build unix

package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nonblocking reports the open file's mode through a fresh descriptor: Go
// opens a non-blocking one as a pollable file, which takes deadlines.
func nonblocking(t *testing.T, fd int) bool {
	t.Helper()
	dup, err := syscall.Dup(fd)
	require.NoError(t, err)
	f := os.NewFile(uintptr(dup), "probe")
	defer f.Close()
	return f.SetReadDeadline(time.Time{}) == nil
}

// An MCP client hands the server the read end of a blocking pipe. The
// server waits on it in the poller while it runs and leaves it blocking
// when it exits, for whoever shares it.
func TestBinaryPollsAnInheritedStdinAndRestoresIt(t *testing.T) {
	var fds [2]int
	require.NoError(t, syscall.Pipe(fds[:]))
	syscall.CloseOnExec(fds[0]) // the child gets the read end as its stdin, and nothing else
	syscall.CloseOnExec(fds[1])
	stdin, input := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "input")
	defer stdin.Close()
	defer input.Close()
	require.False(t, nonblocking(t, fds[0]))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, "--sandbox")
	cmd.Stdin = stdin
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	_, err = io.WriteString(input, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
	require.NoError(t, err)
	answers := bufio.NewScanner(stdout)
	require.True(t, answers.Scan())
	assert.JSONEq(t, `{"jsonrpc":"2.0","id":1,"result":{}}`, answers.Text())
	assert.True(t, nonblocking(t, fds[0]), "the serving binary waits for stdin in the poller")

	require.NoError(t, input.Close()) // EOF: the client went away
	require.NoError(t, cmd.Wait())
	assert.False(t, nonblocking(t, fds[0]), "the pipe is blocking again after exit")
}
