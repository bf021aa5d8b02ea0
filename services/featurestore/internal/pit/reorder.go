package pit

import (
	"container/heap"
	"fmt"
	"slices"
)

// Reorderer restores request order: JoinSorted emits rows in (EntityKey,
// Timestamp) order; Add takes them (copying each) and passes them on to
// emit in Index order 0, 1, 2, … as soon as the next index is available.
//
// Cost: a held row is a copy of its JoinedRow (three slices of the vector
// width). It holds every row that arrives before a lower index, so memory
// is O(rows) in the worst case (a request sorted by time across many
// entities is reversed by the sort); it stays small only when request order
// is close to entity order. A caller that already holds all request rows
// in memory may prefer writing results into a slice by Index.
type Reorderer struct {
	emit func(*JoinedRow) error
	next int64
	held rowHeap
}

// NewReorderer returns a Reorderer emitting indices from 0.
func NewReorderer(emit func(*JoinedRow) error) *Reorderer {
	return &Reorderer{emit: emit}
}

// Add takes one joined row (copied; the argument may be reused) and emits
// every row that is now in order.
func (r *Reorderer) Add(row *JoinedRow) error {
	if row.Index < r.next {
		return fmt.Errorf("pit: reorder: row index %d already emitted or duplicated", row.Index)
	}
	if row.Index == r.next {
		if err := r.emit(row); err != nil {
			return err
		}
		r.next++
	} else {
		heap.Push(&r.held, cloneRow(row))
	}
	for len(r.held) > 0 && r.held[0].Index == r.next {
		h := heap.Pop(&r.held).(*JoinedRow)
		if err := r.emit(h); err != nil {
			return err
		}
		r.next++
	}
	if len(r.held) > 0 && r.held[0].Index < r.next {
		return fmt.Errorf("pit: reorder: duplicate row index %d", r.held[0].Index)
	}
	return nil
}

// Held is the number of rows waiting for a lower index.
func (r *Reorderer) Held() int { return len(r.held) }

// Close reports rows that never became emittable (missing indices).
func (r *Reorderer) Close() error {
	if len(r.held) > 0 {
		return fmt.Errorf("pit: reorder: %d rows held, index %d never arrived", len(r.held), r.next)
	}
	return nil
}

func cloneRow(row *JoinedRow) *JoinedRow {
	return &JoinedRow{
		Row:        row.Row,
		Values:     slices.Clone(row.Values),
		Statuses:   slices.Clone(row.Statuses),
		EventTimes: slices.Clone(row.EventTimes),
	}
}

type rowHeap []*JoinedRow

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return h[i].Index < h[j].Index }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(*JoinedRow)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
