package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// replayCmd prints a placement's history event by event, with what each
// event changed in the placement resource, and the state at the end.
func replayCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var placement, until string
	var position uint64
	store, code, ok := openForCLI("replay", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&placement, "placement", "", "the placement id (required)")
		fs.StringVar(&until, "until", "", "stop at this RFC 3339 time")
		fs.Uint64Var(&position, "position", 0, "stop at this log position")
	})
	if !ok {
		return code
	}
	defer store.Close()
	var err error
	id, err := uuid.Parse(placement)
	if err != nil {
		fmt.Fprintln(stderr, "ledger replay: -placement must be a placement id (a UUID)")
		return 2
	}
	cut := projections.Cut{Position: eventstore.Position(position)}
	if until != "" {
		if cut.Time, err = time.Parse(time.RFC3339Nano, until); err != nil {
			fmt.Fprintln(stderr, "ledger replay: -until must be an RFC 3339 time")
			return 2
		}
	}
	events, err := journal.ReadPlacement(ctx, store, id)
	if errors.Is(err, domain.ErrNotFound) {
		fmt.Fprintf(stderr, "ledger replay: no placement %s\n", id)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger replay:", err)
		return 1
	}
	events = projections.Until(events, cut)
	var p domain.Placement
	before := map[string]any{}
	for _, se := range events {
		p = domain.Evolve(p, se.Event)
		after := asMap(projections.Render(p, se.Revision))
		fmt.Fprintf(stdout, "#%d  position %d  %s  %s  by %s (%s)\n", se.Revision, se.Position,
			se.Meta.OccurredAt.UTC().Format(time.RFC3339), se.Type, se.Meta.Actor, se.Meta.ActorType)
		for _, k := range changedKeys(before, after) {
			if k == "revision" {
				continue
			}
			fmt.Fprintf(stdout, "      %s: %s → %s\n", k, compact(before[k]), compact(after[k]))
		}
		before = after
	}
	if len(events) == 0 {
		fmt.Fprintln(stdout, "the placement did not exist yet at that point")
		return 0
	}
	fmt.Fprintln(stdout, "\nstate at the end:")
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(projections.Render(p, events[len(events)-1].Revision))
	return 0
}

func asMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func changedKeys(a, b map[string]any) []string {
	var out []string
	for k, v := range b {
		if old, ok := a[k]; !ok || !reflect.DeepEqual(old, v) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func compact(v any) string {
	if v == nil {
		return "null"
	}
	b, _ := json.Marshal(v)
	if len(b) > 160 {
		return string(b[:157]) + "…"
	}
	return string(b)
}
