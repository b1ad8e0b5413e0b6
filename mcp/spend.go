package mcp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vast-mcp/vast-mcp/gen"
)

// maxInstancePages bounds the instance list read for the spend ceiling and
// for settling a create; a longer list refuses (the ceiling fails closed)
// or leaves the outcome unknown.
const maxInstancePages = 40

// errPageBound is a list longer than maxInstancePages pages.
var errPageBound = fmt.Errorf("the instance list is longer than %d pages", maxInstancePages)

// listInstances reads every instance of the account, following next_token.
func listInstances(ctx context.Context, vast *gen.Vast) ([]map[string]any, error) {
	var all []map[string]any
	var cursor *string
	for range maxInstancePages {
		params := gen.ShowInstancesParams{AfterToken: cursor}
		answer, err := readObject(ctx, vast, "showInstances", false, func(ctx context.Context, api *gen.Client) (*http.Response, error) {
			return api.ShowInstances(ctx, &params)
		})
		if err != nil {
			return nil, err
		}
		page, err := listField("showInstances", answer, "instances")
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		var next string
		switch token := answer["next_token"].(type) {
		case nil:
			return all, nil
		case string:
			next = token
		default:
			// A cursor that is not text would end the paging silently.
			return nil, fmt.Errorf("showInstances: next_token is %T, not a string: the remaining pages cannot be read", token)
		}
		if next == "" {
			return all, nil
		}
		cursor = &next
	}
	return nil, errPageBound
}

// billing reports whether an instance is billed for its GPU: running, or
// on its way there.
func billing(inst map[string]any) bool {
	for _, field := range []string{"actual_status", "intended_status", "cur_state"} {
		if stringOf(inst[field]) == "running" {
			return true
		}
	}
	return false
}

// readOffer reads an offer's $/hour and machine (search offers, id eq).
func readOffer(ctx context.Context, vast *gen.Vast, offerID int) (map[string]any, error) {
	var query gen.SearchOffersJSONRequestBody
	eq := map[string]any{"eq": offerID}
	query.Id = &eq
	answer, err := readObject(ctx, vast, "searchOffers", false, func(ctx context.Context, api *gen.Client) (*http.Response, error) {
		return api.SearchOffers(ctx, query)
	})
	if err != nil {
		return nil, err
	}
	offers, err := listField("searchOffers", answer, "offers")
	if err != nil {
		return nil, err
	}
	for _, offer := range offers {
		if intOf(offer["id"]) == offerID {
			return offer, nil
		}
	}
	return nil, fmt.Errorf("offer %d is not in the marketplace (gone or taken)", offerID)
}

// guardSpend is create_instance's spend ceiling: the account's running
// $/hour plus the offer's must stay within --max-hourly-spend, and its
// instances within --max-instances. Without either, it reads nothing.
func guardSpend(ctx context.Context, vast *gen.Vast, g *Guardrails, c *createInstanceCall) error {
	if g == nil || (g.MaxHourlySpend <= 0 && g.MaxInstances <= 0) {
		return nil
	}
	flag := g.spendFlags()
	if err := takeSpendTurn(ctx, vast, flag); err != nil {
		return err
	}
	instances, err := instancesToCheck(ctx, vast, flag)
	if instances == nil {
		return err // nil in a dry run: it sends nothing, so there is nothing to guard
	}
	if g.MaxInstances > 0 && len(instances)+1 > g.MaxInstances {
		return &capError{flag, fmt.Sprintf("the account has %d instances (running or stopped); one more would exceed the cap of %d", len(instances), g.MaxInstances)}
	}
	if g.MaxHourlySpend <= 0 {
		return nil
	}
	offer, err := readOffer(ctx, vast, c.OfferID)
	if err != nil {
		return &capError{flag, fmt.Sprintf("offer %d could not be read to check the ceiling (%s)", c.OfferID, readFailure(err))}
	}
	dph := floatOf(offer["dph_total"])
	if c.Price != nil && *c.Price > dph {
		dph = *c.Price
	}
	if !(dph > 0) {
		return &capError{flag, fmt.Sprintf("offer %d has no $/hour (dph_total) to check against the ceiling", c.OfferID)}
	}
	noteHourly(ctx, dph)
	return g.withinCeiling(flag, instances, fmt.Sprintf("offer %d", c.OfferID), dph)
}

// guardStartInstance keeps start_instance to this server's instances
// (--manage own) and within --max-hourly-spend: a started instance bills
// its $/hour again, so it is counted as a create's offer would be.
func guardStartInstance(ctx context.Context, vast *gen.Vast, g *Guardrails, c *manageInstanceCall) error {
	if err := g.instanceOwned(ctx, vast, c.InstanceID); err != nil {
		return err
	}
	if g == nil || g.MaxHourlySpend <= 0 {
		return nil
	}
	flag := "--max-hourly-spend " + FormatNumber(g.MaxHourlySpend)
	if err := takeSpendTurn(ctx, vast, flag); err != nil {
		return err
	}
	instances, err := instancesToCheck(ctx, vast, flag)
	if instances == nil {
		return err
	}
	inst := instanceByID(instances, c.InstanceID)
	switch {
	case inst == nil:
		return &capError{flag, fmt.Sprintf("instance %d is not in the account's instance list, so its $/hour cannot be checked against the ceiling", c.InstanceID)}
	case billing(inst):
		return nil // already billed, so already counted
	}
	dph, ok := readablePrice(inst)
	if !ok || dph == 0 {
		return &capError{flag, fmt.Sprintf("instance %d has no readable $/hour (dph_total) to check against the ceiling", c.InstanceID)}
	}
	return g.withinCeiling(flag, instances, fmt.Sprintf("instance %d", c.InstanceID), dph)
}

// instancesToCheck reads the account's instances for a bound: nil and no
// error in a dry run, nil and the refusal when they cannot be read.
func instancesToCheck(ctx context.Context, vast *gen.Vast, flag string) ([]map[string]any, error) {
	instances, err := listInstances(ctx, vast)
	var dry *gen.DryRunError
	switch {
	case errors.As(err, &dry):
		return nil, nil
	case err != nil:
		return nil, &capError{flag, "the account's instances could not be read to check the ceiling (" + readFailure(err) + ")"}
	case instances == nil:
		return []map[string]any{}, nil // an empty account is read, not a dry run
	}
	return instances, nil
}

// withinCeiling refuses, naming flag, when the account's billed $/hour
// plus what adds would pass --max-hourly-spend.
func (g *Guardrails) withinCeiling(flag string, instances []map[string]any, what string, adds float64) error {
	var running float64
	var count int
	for _, inst := range instances {
		if !billing(inst) {
			continue
		}
		price, ok := readablePrice(inst)
		if !ok {
			// An instance whose price cannot be read cannot be counted as $0.
			return &capError{flag, fmt.Sprintf("running instance %s has no readable $/hour (dph_total), so the account's spend cannot be checked", FormatNumber(floatOf(inst["id"])))}
		}
		running += price
		count++
	}
	if running+adds > g.MaxHourlySpend {
		return &capError{flag, fmt.Sprintf("the account's %d running instances cost $%.4f/hour; %s adds $%.4f/hour, $%.4f/hour in all, over the ceiling of $%s/hour",
			count, running, what, adds, running+adds, FormatNumber(g.MaxHourlySpend))}
	}
	return nil
}

func readablePrice(inst map[string]any) (float64, bool) {
	price, ok := inst["dph_total"].(float64)
	return price, ok && !math.IsNaN(price) && !math.IsInf(price, 0) && price >= 0
}

func instanceByID(instances []map[string]any, id int) map[string]any {
	for _, inst := range instances {
		if intOf(inst["id"]) == id {
			return inst
		}
	}
	return nil
}

// spendTurns let one call at a time check an account's spend and send what
// adds to it. Without them, calls in flight together would each pass a
// check read before any of them was sent. One process takes a single turn;
// replicas sharing SpendLocks take a lock per account instead, which orders
// this process's own calls too.
type spendTurns struct {
	local    chan struct{}
	shared   SpendLocks
	accounts sync.Map // gen key digest -> "user:<id>", read once per key
	known    atomic.Int32
}

// maxKnownAccounts bounds the accounts remembered; past it they are read
// again.
const maxKnownAccounts = 10000

func newSpendTurns(shared SpendLocks) *spendTurns {
	return &spendTurns{local: make(chan struct{}, 1), shared: shared}
}

// take waits for the call's turn.
func (t *spendTurns) take(ctx context.Context, vast *gen.Vast, flag string) (SpendLease, error) {
	if t.shared == nil {
		select {
		case t.local <- struct{}{}:
			return localTurn(t.local), nil
		case <-ctx.Done():
			return nil, &capError{flag, "the call ended while waiting for another call that adds spend to finish"}
		}
	}
	account, err := t.account(ctx, vast)
	if err != nil {
		return nil, &capError{flag, "the account could not be read to take the spend lock the replicas share (" + readFailure(err) + ")"}
	}
	lease, err := t.shared.Lock(ctx, account)
	if err != nil {
		return nil, &capError{flag, "the spend lock the replicas share was not taken (" + cleanString(err.Error()) + ")"}
	}
	return lease, nil
}

// localTurn is this process's one turn: held until released.
type localTurn chan struct{}

func (localTurn) Held() bool { return true }
func (t localTurn) Release() { <-t }

// account names the account a call acts on by its user id, so that two
// keys of one account (a rotation under way) share one lock.
func (t *spendTurns) account(ctx context.Context, vast *gen.Vast) (string, error) {
	key := vast.KeyDigest(ctx)
	if account, ok := t.accounts.Load(key); ok {
		return account.(string), nil
	}
	answer, err := readObject(ctx, vast, "showUser", false, func(ctx context.Context, api *gen.Client) (*http.Response, error) {
		return api.ShowUser(ctx)
	})
	if err != nil {
		return "", err
	}
	id := intOf(answer["id"])
	if id <= 0 {
		return "", errors.New("showUser: the answer has no user id")
	}
	if t.known.Add(1) > maxKnownAccounts {
		t.accounts.Clear()
		t.known.Store(1)
	}
	account := "user:" + strconv.Itoa(id)
	t.accounts.Store(key, account)
	return account, nil
}

// takeSpendTurn waits for the call's turn; the handler gives it back once
// the call's outcome is known, settled or not.
func takeSpendTurn(ctx context.Context, vast *gen.Vast, flag string) error {
	f := factsOf(ctx)
	if f.turns == nil || f.holdsTurn() || vast.IsDryRun() {
		return nil
	}
	lease, err := f.turns.take(ctx, vast, flag)
	if err != nil {
		return err
	}
	f.turn = lease
	return nil
}

// SpendLocks give one call at a time, across every replica that shares
// them, the right to check an account's spend and send what adds to it.
// They fail closed: a lock not taken refuses the call.
type SpendLocks interface {
	// Lock waits for account's lock ("user:<id>"). The error says why it
	// was not taken, in words fit for the agent.
	Lock(ctx context.Context, account string) (SpendLease, error)
}

// SpendLease is a spend turn held.
type SpendLease interface {
	// Held reports whether the turn is still surely this call's. A lock
	// lost while the call ran (a stalled process, Redis gone) is not: the
	// call then sends nothing.
	Held() bool
	Release()
}

func (g *Guardrails) spendFlags() string {
	var flags []string
	if g.MaxHourlySpend > 0 {
		flags = append(flags, "--max-hourly-spend "+FormatNumber(g.MaxHourlySpend))
	}
	if g.MaxInstances > 0 {
		flags = append(flags, "--max-instances "+strconv.Itoa(g.MaxInstances))
	}
	return strings.Join(flags, ", ")
}
