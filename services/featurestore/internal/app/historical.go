package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aifactory/aifactory/libs/service"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/adapters"
	"github.com/aifactory/aifactory/services/featurestore/internal/features"
	"github.com/aifactory/aifactory/services/featurestore/internal/pit"
)

// Limits of GetHistoricalFeatures.
const (
	// MaxHistoricalRows bounds the entity rows of one request.
	MaxHistoricalRows = 2_000_000
	// MaxRowsPerMessage bounds the rows of one request message.
	MaxRowsPerMessage = 10_000
	// historicalChunk is how many joined rows one response carries.
	historicalChunk = 1000
)

// GetHistoricalFeatures joins the requested features to rows point in
// time (see package pit) and sends the joined rows in request order, in
// chunks. The offline history of each view involved is read once.
func (s *Service) GetHistoricalFeatures(ctx context.Context, h *featurestorev1.HistoricalHeader, rows []*featurestorev1.HistoricalRow,
	send func(*featurestorev1.GetHistoricalFeaturesResponse) error) error {
	refs, err := s.resolveRefs(h.GetFeatureService(), h.GetFeatures())
	if err != nil {
		return err
	}
	var v service.Violations
	var maxTS time.Time
	for i, r := range rows {
		if r.GetTimestamp() == nil {
			v.Add(fmt.Sprintf("rows[%d].timestamp", i), "is required: the point in time to read features at")
			if v.Len() > 20 {
				break
			}
			continue
		}
		if t := r.GetTimestamp().AsTime(); t.After(maxTS) {
			maxTS = t
		}
		if len(r.GetExtra()) != len(h.GetExtraColumns()) {
			v.Add(fmt.Sprintf("rows[%d].extra", i), fmt.Sprintf("has %d values; the header names %d extra columns", len(r.GetExtra()), len(h.GetExtraColumns())))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	vectors := make([]*featurestorev1.FeatureVector, len(rows))
	for i := range vectors {
		vectors[i] = &featurestorev1.FeatureVector{
			Values:          make([]*featurestorev1.Value, len(refs)),
			Statuses:        make([]featurestorev1.FeatureStatus, len(refs)),
			EventTimeMicros: make([]int64, len(refs)),
		}
	}
	// One join per entity: rows keyed by that entity, its views' events.
	byEntity := map[string][]*viewRead{}
	var order []string
	for _, g := range groupByView(refs) {
		name := g.view.Def.GetEntity()
		if _, ok := byEntity[name]; !ok {
			order = append(order, name)
		}
		byEntity[name] = append(byEntity[name], g)
	}
	for _, name := range order {
		if err := s.joinEntity(ctx, byEntity[name], rows, maxTS, vectors); err != nil {
			return err
		}
	}
	resp := &featurestorev1.GetHistoricalFeaturesResponse{FeatureNames: make([]string, len(refs))}
	for i, r := range refs {
		resp.FeatureNames[i] = r.name
	}
	for i, row := range rows {
		resp.Rows = append(resp.Rows, &featurestorev1.JoinedRow{Index: int64(i), Row: row, Features: vectors[i]})
		if len(resp.Rows) == historicalChunk || i == len(rows)-1 {
			if err := send(resp); err != nil {
				return err
			}
			resp = &featurestorev1.GetHistoricalFeaturesResponse{}
		}
	}
	if len(rows) == 0 {
		return send(resp)
	}
	return nil
}

// joinEntity joins the views of one entity and writes their features into
// vectors at their output positions.
func (s *Service) joinEntity(ctx context.Context, groups []*viewRead, rows []*featurestorev1.HistoricalRow, maxTS time.Time, vectors []*featurestorev1.FeatureVector) error {
	entity := groups[0].view.Entity
	prows := make([]pit.Row, 0, len(rows))
	var v service.Violations
	for i, r := range rows {
		key, err := features.KeyFromRow(r.GetJoinKeys(), entity)
		if err != nil {
			v.Add(fmt.Sprintf("rows[%d].join_keys", i), err.Error())
			if v.Len() > 20 {
				break
			}
			continue
		}
		prows = append(prows, pit.Row{EntityKey: key, Timestamp: r.GetTimestamp().AsTime(), Index: int64(i)})
	}
	if err := v.Err(); err != nil {
		return err
	}
	pit.SortRows(prows)
	inputs := make([]pit.ViewInput, 0, len(groups))
	var positions []int // output position of each joined feature, in join order
	for _, g := range groups {
		events, err := s.loadEvents(ctx, g.view, maxTS)
		if err != nil {
			return service.Unavailable("read the offline history", err)
		}
		var idx []int
		for j, name := range g.fields {
			i, _ := g.view.Compiled.Feature(name)
			idx = append(idx, i)
			positions = append(positions, g.fieldPos[j])
		}
		for j, r := range g.aggs {
			idx = append(idx, r.feature)
			positions = append(positions, g.aggPos[j])
		}
		inputs = append(inputs, pit.ViewInput{View: g.view.Compiled, Features: idx, Events: pit.SliceEvents(events)})
	}
	return pit.JoinSorted(pit.SliceRows(prows), inputs, func(jr *pit.JoinedRow) error {
		vec := vectors[jr.Index]
		for k, pos := range positions {
			val := jr.Values[k]
			if val == nil {
				val = &featurestorev1.Value{}
			}
			vec.Values[pos] = val
			vec.Statuses[pos] = jr.Statuses[k]
			if !jr.EventTimes[k].IsZero() {
				vec.EventTimeMicros[pos] = jr.EventTimes[k].UnixMicro()
			}
		}
		return nil
	})
}

// loadEvents reads a view's history up to until, sorted for the join.
func (s *Service) loadEvents(ctx context.Context, v *View, until time.Time) ([]features.Event, error) {
	var events []features.Event
	err := s.hist.Scan(ctx, v.Def.GetName(), until, func(r adapters.HistoryRow) error {
		ev, err := v.Compiled.Extract(r.Record)
		if err != nil {
			return nil // never materialized either
		}
		ev.Seq = r.Seq
		events = append(events, ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pit.SortEvents(events)
	return events, nil
}
