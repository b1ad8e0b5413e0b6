//go:build unix

package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inheritedStdin is the blocking pipe an MCP client hands a server it
// spawns: the read end for the child, the write end for the test.
func inheritedStdin(t *testing.T) (stdin, input *os.File) {
	t.Helper()
	fds := make([]int, 2)
	syscall.ForkLock.RLock()
	err := syscall.Pipe(fds)
	if err == nil {
		syscall.CloseOnExec(fds[0]) // the child gets the read end as its stdin, and nothing else
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	require.NoError(t, err)
	stdin, input = os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "input")
	t.Cleanup(func() { stdin.Close(); input.Close() })
	return stdin, input
}

// nonblocking reads O_NONBLOCK of the open file the child shares with f.
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	require.Zero(t, errno)
	return flags&syscall.O_NONBLOCK != 0
}

// Serving over stdio, the binary waits for stdin in the poller, and leaves
// the pipe blocking when it exits, for whoever shares it.
func TestStdioServerPollsAnInheritedStdinAndRestoresIt(t *testing.T) {
	stdin, input := inheritedStdin(t)
	require.False(t, nonblocking(t, stdin))

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
	assert.True(t, nonblocking(t, stdin), "the serving binary waits for stdin in the poller")

	require.NoError(t, input.Close()) // EOF: the client went away
	require.NoError(t, cmd.Wait())
	assert.False(t, nonblocking(t, stdin), "the pipe is blocking again after exit")
}

// Served over HTTP the binary never reads stdin, so it leaves stdin's mode
// alone: another reader of the same pipe would otherwise get EAGAIN.
func TestHTTPServerLeavesStdinAlone(t *testing.T) {
	stdin, _ := inheritedStdin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0")
	cmd.Stdin = stdin
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	logLines := bufio.NewScanner(stderr)
	for logLines.Scan() && !strings.Contains(logLines.Text(), "listening") {
	}
	require.Contains(t, logLines.Text(), "listening", "the HTTP server did not start")
	assert.False(t, nonblocking(t, stdin))
}

// A stdin that blocks a thread in read(2), here a socket shared with stdout
// (which PollStdin leaves blocking), keeps the runtime's processors: on one,
// every message would wait for the runtime to take it back from the reader.
func TestBlockingStdinKeepsTheProcessors(t *testing.T) {
	const before = 3
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(before))
	t.Setenv("GOMAXPROCS", "")
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	shared, agent := os.NewFile(uintptr(fds[0]), "shared"), os.NewFile(uintptr(fds[1]), "agent")
	defer shared.Close()
	defer agent.Close()
	require.False(t, nonblocking(t, shared))

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"--sandbox"}, shared, shared, io.Discard, func(string) string { return "" })
	}()
	_, err = io.WriteString(agent, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
	require.NoError(t, err)
	answers := bufio.NewScanner(agent)
	require.True(t, answers.Scan())
	assert.JSONEq(t, `{"jsonrpc":"2.0","id":1,"result":{}}`, answers.Text())
	assert.False(t, nonblocking(t, shared), "shared with stdout, stdin stays blocking")
	assert.Equal(t, before, runtime.GOMAXPROCS(0))

	require.NoError(t, syscall.Shutdown(fds[1], syscall.SHUT_WR)) // EOF: the agent went away
	select {
	case code := <-exited:
		assert.Zero(t, code)
	case <-ctx.Done():
		t.Fatal("the server did not stop")
	}
}
