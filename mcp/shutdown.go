package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Shutdown lets the calls already running finish when the server stops. A
// create that left for the API has an outcome the agent, or at least the
// operator, must learn: its session ending (end of input, SIGTERM, a client
// gone during shutdown) no longer cancels it. A call still waiting for a
// human is not sent. New calls are refused.
type Shutdown struct {
	begun    context.Context // done once Begin was called
	begin    context.CancelFunc
	deadline context.Context // done when the running calls' time is up
	expire   context.CancelFunc
	once     sync.Once
}

// NewShutdown returns a Shutdown that has not begun.
func NewShutdown() *Shutdown {
	s := &Shutdown{}
	s.begun, s.begin = context.WithCancel(context.Background())
	s.deadline, s.expire = context.WithCancel(context.Background())
	return s
}

// Begin refuses new calls and gives the running ones limit to finish. Only
// the first call counts; it reports whether this was it.
func (s *Shutdown) Begin(limit time.Duration) (first bool) {
	s.once.Do(func() {
		time.AfterFunc(limit, s.expire)
		s.begin()
		first = true
	})
	return first
}

func (s *Shutdown) hasBegun() bool { return s != nil && s.begun.Err() != nil }

// humanWaitKey holds what a wait for a human follows: the call's own
// context and the shutdown.
type humanWaitKey struct{}

type humanWait struct {
	ctx      context.Context
	shutdown *Shutdown
}

// detach returns the context a call runs under. It keeps ctx's values and
// follows ctx's cancellation (notifications/cancelled, an HTTP client gone)
// until the shutdown begins; from then on only the deadline ends it. Waits
// for a human follow ctx and also end when the shutdown begins: nothing is
// sent after that (humanContext).
func (s *Shutdown) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	call, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopFollowing := context.AfterFunc(ctx, func() {
		if !s.hasBegun() {
			cancel()
		}
	})
	stopDeadline := context.AfterFunc(s.deadline, cancel)
	return context.WithValue(call, humanWaitKey{}, humanWait{ctx, s}), func() {
		stopFollowing()
		stopDeadline()
		cancel()
	}
}

// humanContext is the context to wait for a human under, made only for a
// call that asks one; release frees it.
func humanContext(ctx context.Context) (human context.Context, release func()) {
	w, ok := ctx.Value(humanWaitKey{}).(humanWait)
	if !ok {
		return ctx, func() {}
	}
	human, cancel := context.WithCancel(w.ctx)
	stop := context.AfterFunc(w.shutdown.begun, cancel)
	return human, func() {
		stop()
		cancel()
	}
}

// callGate admits tool calls: none once the shutdown began, and no more
// than slots at once when slots is not nil, so that calls waiting on the
// API or a human never hold every worker of the stdio transport.
type callGate struct {
	shutdown *Shutdown
	slots    chan struct{}
	logger   *slog.Logger
}

func newCallGate(opts Options) *callGate {
	g := &callGate{shutdown: opts.Shutdown, logger: opts.Logger}
	if opts.MaxCallsInFlight > 0 {
		g.slots = make(chan struct{}, opts.MaxCallsInFlight)
	}
	return g
}

func (g *callGate) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		name := req.Params.Name
		if g.shutdown.hasBegun() {
			return notSent(name + ": vast-mcp is shutting down; nothing was sent. Call again once it is back."), nil
		}
		if g.slots != nil {
			select {
			case g.slots <- struct{}{}:
				defer func() { <-g.slots }()
			default:
				return notSent(fmt.Sprintf("%s: vast-mcp is already running %d calls, as many as it takes at once; nothing was sent. "+
					"Wait for their answers, then call again.", name, cap(g.slots))), nil
			}
		}
		if g.shutdown == nil {
			return next(ctx, req)
		}
		callCtx, done := g.shutdown.detach(ctx)
		defer done()
		result, err := next(callCtx, req)
		if g.shutdown.hasBegun() && g.logger != nil {
			// Before mcp-go writes the answer: the client may be gone.
			g.logger.Warn("call finished during shutdown", finishedDuringShutdown(name, result, err)...)
		}
		return result, err
	}
}

// finishedDuringShutdown describes a call's outcome for the log: the tool,
// and the resource's id or that it failed. Nothing else the API answered:
// the result may hold a credential, and a failure's text quotes the API.
func finishedDuringShutdown(tool string, result *mcpgo.CallToolResult, err error) []any {
	attrs := []any{"tool", tool}
	if err != nil || result == nil || result.IsError {
		return append(attrs, "outcome", "failed", "next", "the agent got the reason if it still listened; otherwise check the Vast.ai console")
	}
	outcome := outcome(result)
	spec := specNamedOrNil(tool)
	if spec == nil || outcome != OutcomeDone || len(spec.IDFields) == 0 {
		return append(attrs, "outcome", outcome)
	}
	if spec.Kind == kindCreate {
		outcome = "created"
	}
	attrs = append(attrs, "outcome", outcome)
	if answer, ok := result.StructuredContent.(map[string]any); ok {
		if id, ok := answer[spec.IDFields[0]].(float64); ok {
			attrs = append(attrs, "id", FormatNumber(id))
		}
	}
	return attrs
}

func specNamedOrNil(name string) *toolSpec { return toolsByName[name] }

// toolsByName indexes toolSpecs. It is filled by init, not by its
// declaration: the guardrails that toolSpecs names read it.
var toolsByName map[string]*toolSpec

func init() {
	toolsByName = make(map[string]*toolSpec, len(toolSpecs))
	for i := range toolSpecs {
		toolsByName[toolSpecs[i].Name] = &toolSpecs[i]
	}
}
