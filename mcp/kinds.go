package mcp

import (
	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// kind is what a tool does to the account, declared on its operation in
// overlay.yaml (a PUT both creates an instance and stops one). It decides,
// from the one table below, how the tool is annotated, confirmed, retried
// and worded.
type kind int

const (
	kindRead kind = iota
	kindCreate
	kindUpdate
	kindDestroy
)

type kindRules struct {
	name string
	// MCP annotations: what a client may assume about a call.
	readOnly, destructive, idempotent bool
	// retryUnknown lets the client repeat the call after a 5xx or a
	// timeout (gen.Call.Idempotent). A create never: it could rent twice.
	retryUnknown bool
	// confirmedFrom is the lowest --confirm policy under which a human is
	// asked before the call is sent.
	confirmedFrom ConfirmPolicy
	// unknown tells the agent what an answer that never came means.
	unknown string
	// notSent says nothing changed, for failures before anything was sent.
	notSent string
}

var kinds = [...]kindRules{
	kindRead: {
		name: "read", readOnly: true, idempotent: true, retryUnknown: true, confirmedFrom: confirmNever,
		unknown: "No usable answer came. A read changes nothing: it is safe to call again.",
		notSent: "Nothing was sent; it is safe to call again.",
	},
	kindCreate: {
		name: "create", confirmedFrom: ConfirmAll,
		unknown: "The create may or may not have happened: check the Vast.ai console (or the read tools) before calling again, or it may be created and billed twice.",
		notSent: "Nothing was created; it is safe to call again.",
	},
	kindUpdate: {
		name: "update", idempotent: true, confirmedFrom: ConfirmAll,
		unknown: "The change may or may not have been applied: read the resource to see its state before calling again.",
		notSent: "Nothing was changed; it is safe to call again.",
	},
	kindDestroy: {
		name: "destroy", destructive: true, idempotent: true, confirmedFrom: ConfirmDestructive,
		unknown: "The removal may or may not have happened: read the resource to see whether it is still there; calling again is safe (a removal already done answers that it is already gone).",
		notSent: "Nothing was removed; it is safe to call again.",
	},
}

func (k kind) rules() kindRules { return kinds[k] }

// annotations leave out their own title: the tool's title says it once,
// and every byte of tools/list is in every conversation (BENCHMARKS.md).
func (k kind) annotations() mcpgo.ToolAnnotation {
	r := k.rules()
	openWorld := true // every tool acts on the Vast.ai cloud
	return mcpgo.ToolAnnotation{
		ReadOnlyHint:    &r.readOnly,
		DestructiveHint: &r.destructive,
		IdempotentHint:  &r.idempotent,
		OpenWorldHint:   &openWorld,
	}
}

// ConfirmPolicy is the operator's --confirm: which calls a human approves,
// through MCP elicitation, before they are sent.
type ConfirmPolicy int

const (
	// ConfirmDestructive asks before a destroy or delete. The default:
	// nothing else loses data.
	ConfirmDestructive ConfirmPolicy = iota
	// ConfirmAll asks before every call that spends or changes anything:
	// creates, stops and starts (which change billing), and removals.
	ConfirmAll
	// ConfirmNone asks nobody.
	ConfirmNone
	// confirmNever is above every policy: reads are never confirmed.
	confirmNever
)

// asks reports whether a call of kind k waits for a human under policy p.
func (p ConfirmPolicy) asks(k kind) bool {
	from := k.rules().confirmedFrom
	switch p {
	case ConfirmNone:
		return false
	case ConfirmAll:
		return from <= ConfirmAll
	default:
		return from == ConfirmDestructive
	}
}

func (p ConfirmPolicy) String() string {
	switch p {
	case ConfirmAll:
		return "all"
	case ConfirmNone:
		return "none"
	default:
		return "destructive"
	}
}

// Outcomes a result reports in _meta (MetaOutcome), so that agents and
// tests branch on data rather than on wording.
const (
	OutcomeDone    = "done"     // the API did it (or, for a removal, it was already gone)
	OutcomeInvalid = "invalid"  // the arguments were refused; nothing was sent
	OutcomeRefused = "refused"  // an operator guardrail refused it; nothing was sent
	OutcomeNotSent = "not_sent" // it failed before anything was sent, or the API refused it
	OutcomeUnknown = "unknown"  // it was sent and no usable answer came
	OutcomeAsking  = "asking"   // waiting for a human's confirmation
	OutcomeDryRun  = "dry_run"  // --dry-run: the request is shown, nothing was sent
)
