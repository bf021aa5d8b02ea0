// Package results builds and reads the column-major per-record results of
// an ingestion batch (ingestionv1.BatchResults): servers and test doubles
// build them with a Builder, clients expand them into one RecordResult per
// record.
package results

import (
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

// Builder accumulates the results of a batch of n records.
type Builder struct {
	br *ingestionv1.BatchResults
}

// NewBuilder returns a builder for n records, all OUTCOME_UNSPECIFIED.
func NewBuilder(n int) *Builder {
	return &Builder{br: &ingestionv1.BatchResults{
		Outcomes:   make([]ingestionv1.Outcome, n),
		Sequences:  make([]uint64, n),
		MessageIds: make([]string, n),
	}}
}

// Set records record i's outcome, sequence and message id.
func (b *Builder) Set(i int, o ingestionv1.Outcome, seq uint64, msgID string) {
	b.br.Outcomes[i], b.br.Sequences[i], b.br.MessageIds[i] = o, seq, msgID
}

// Problem records record i as REJECTED (with violations) or ERROR (with
// err); the outcome and message id columns are set too.
func (b *Builder) Problem(i int, o ingestionv1.Outcome, seq uint64, msgID string, violations []*ingestionv1.RecordViolation, err string) {
	b.Set(i, o, seq, msgID)
	b.br.Problems = append(b.br.Problems, &ingestionv1.RecordResult{
		Index: int32(i), Outcome: o, MessageId: msgID, Sequence: seq, Violations: violations, Error: err,
	})
}

// Build returns the results.
func (b *Builder) Build() *ingestionv1.BatchResults { return b.br }

// Expand returns one RecordResult per record, in order.
func Expand(br *ingestionv1.BatchResults) []*ingestionv1.RecordResult {
	out := make([]*ingestionv1.RecordResult, len(br.GetOutcomes()))
	for i, o := range br.GetOutcomes() {
		r := &ingestionv1.RecordResult{Index: int32(i), Outcome: o}
		if i < len(br.GetSequences()) {
			r.Sequence = br.GetSequences()[i]
		}
		if i < len(br.GetMessageIds()) {
			r.MessageId = br.GetMessageIds()[i]
		}
		out[i] = r
	}
	for _, p := range br.GetProblems() {
		if i := int(p.GetIndex()); i >= 0 && i < len(out) {
			out[i] = p
		}
	}
	return out
}
