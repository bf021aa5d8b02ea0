package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aifactory/aifactory/libs/service"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/features"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
)

// MaxOnlineEntities bounds the entities of one GetOnlineFeatures call.
const MaxOnlineEntities = 1000

var (
	statusPresent  = featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
	statusNotFound = featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
	statusExpired  = featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED
)

// viewRead is what one request needs from one view.
type viewRead struct {
	view      *View
	fields    []string // field features to read, by name
	fieldPos  []int    // output position of each field feature
	aggs      []ref    // aggregated features
	aggPos    []int
	maxWindow time.Duration
}

// groupByView splits the requested features by view, remembering each
// feature's output position.
func groupByView(refs []ref) []*viewRead {
	var out []*viewRead
	byView := map[string]*viewRead{}
	for pos, r := range refs {
		vr := byView[r.view.Def.GetName()]
		if vr == nil {
			vr = &viewRead{view: r.view}
			byView[r.view.Def.GetName()] = vr
			out = append(out, vr)
		}
		f := r.view.Compiled.Features[r.feature]
		if f.Aggregated() {
			vr.aggs = append(vr.aggs, r)
			vr.aggPos = append(vr.aggPos, pos)
			vr.maxWindow = max(vr.maxWindow, f.Window)
		} else {
			vr.fields = append(vr.fields, f.Name)
			vr.fieldPos = append(vr.fieldPos, pos)
		}
	}
	return out
}

// GetOnlineFeatures reads the latest features of up to MaxOnlineEntities
// entities in one online-store round trip.
func (s *Service) GetOnlineFeatures(ctx context.Context, req *featurestorev1.GetOnlineFeaturesRequest) (*featurestorev1.GetOnlineFeaturesResponse, error) {
	var v service.Violations
	rows, cols := req.GetEntities(), req.GetEntityColumns()
	n, field := len(rows), "entities"
	var columns features.EntityColumns
	if len(cols) > 0 {
		if len(rows) > 0 {
			v.Add("entity_columns", "give entities or entity_columns, not both")
			return nil, v.Err()
		}
		var err error
		if columns, n, err = features.NewEntityColumns(cols); err != nil {
			v.Add("entity_columns", err.Error())
			return nil, v.Err()
		}
		field = "entity_columns"
	}
	if n == 0 || n > MaxOnlineEntities {
		v.Add(field, fmt.Sprintf("has %d entities; give 1 to %d", n, MaxOnlineEntities))
		return nil, v.Err()
	}
	refs, err := s.resolveRefs(req.GetFeatureService(), req.GetFeatures())
	if err != nil {
		return nil, err
	}
	groups := groupByView(refs)
	now := s.now()
	// One read request per (view, entity), all in one round trip.
	var (
		reqs  []online.ReadRequest
		owner [][2]int // reqs[i] belongs to (group, entity)
	)
	for gi, g := range groups {
		for ei := range n {
			var (
				key string
				err error
			)
			if columns != nil {
				key, err = features.KeyFromColumns(columns, ei, g.view.Entity)
			} else {
				key, err = features.KeyFromRow(rows[ei].GetJoinKeys(), g.view.Entity)
			}
			if err != nil {
				v.Add(fmt.Sprintf("%s[%d]", field, ei), err.Error())
				continue
			}
			rr := online.ReadRequest{View: g.view.Namespace(), Entity: key, Fields: g.fields}
			if len(g.aggs) > 0 {
				rr.WithEvents = true
			}
			reqs = append(reqs, rr)
			owner = append(owner, [2]int{gi, ei})
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	results, err := s.store.Read(ctx, reqs)
	if err != nil {
		if errors.Is(err, online.ErrUnavailable) {
			return nil, service.Unavailable("the online store is unavailable", err)
		}
		return nil, service.Unavailable("read the online store", err)
	}
	resp := &featurestorev1.GetOnlineFeaturesResponse{
		FeatureNames: make([]string, len(refs)),
		Columns:      make([]*featurestorev1.FeatureColumn, len(refs)),
	}
	types := make([]featurestorev1.ValueType, len(refs))
	for i, r := range refs {
		types[i] = r.view.Compiled.Features[r.feature].Type
	}
	slab := newColumnSlab(types, n)
	for i, r := range refs {
		resp.FeatureNames[i] = r.name
		resp.Columns[i] = slab.column(i, types[i])
	}
	for i, res := range results {
		g, entity := groups[owner[i][0]], owner[i][1]
		s.fillFields(g, res, resp.Columns, entity, now)
		s.fillAggregates(g, res, resp.Columns, entity, now)
	}
	return resp, nil
}

// columnSlab allocates the arrays of an answer's columns from a few
// backing arrays instead of four or five per column.
type columnSlab struct {
	n        int
	cols     []featurestorev1.FeatureColumn
	statuses []featurestorev1.FeatureStatus
	ints     []int64 // event times and int64/timestamp values
	flags    []bool  // nulls and bool values
	doubles  []float64
	strings  []string
}

func newColumnSlab(types []featurestorev1.ValueType, n int) *columnSlab {
	var nInt, nFlag, nDouble, nString int
	for _, t := range types {
		nInt += n
		nFlag += n
		switch t {
		case featurestorev1.ValueType_VALUE_TYPE_INT64, featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
			nInt += n
		case featurestorev1.ValueType_VALUE_TYPE_BOOL:
			nFlag += n
		case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
			nDouble += n
		case featurestorev1.ValueType_VALUE_TYPE_STRING:
			nString += n
		}
	}
	return &columnSlab{
		n: n, cols: make([]featurestorev1.FeatureColumn, len(types)),
		statuses: make([]featurestorev1.FeatureStatus, n*len(types)),
		ints:     make([]int64, nInt), flags: make([]bool, nFlag),
		doubles: make([]float64, nDouble), strings: make([]string, nString),
	}
}

// take cuts n entries off the front of *s.
func take[T any](s *[]T, n int) []T {
	out := (*s)[:n:n]
	*s = (*s)[n:]
	return out
}

// column returns column i of type typ, all entries NOT_FOUND and null.
func (cs *columnSlab) column(i int, typ featurestorev1.ValueType) *featurestorev1.FeatureColumn {
	n := cs.n
	c := &cs.cols[i]
	c.Type = typ
	c.Statuses = take(&cs.statuses, n)
	c.EventTimeMicros = take(&cs.ints, n)
	c.Nulls = take(&cs.flags, n)
	for j := range c.Statuses {
		c.Statuses[j], c.Nulls[j] = statusNotFound, true
	}
	switch typ {
	case featurestorev1.ValueType_VALUE_TYPE_STRING:
		c.Strings = take(&cs.strings, n)
	case featurestorev1.ValueType_VALUE_TYPE_INT64:
		c.Int64S = take(&cs.ints, n)
	case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
		c.Doubles = take(&cs.doubles, n)
	case featurestorev1.ValueType_VALUE_TYPE_BOOL:
		c.Bools = take(&cs.flags, n)
	case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
		c.TimestampMicros = take(&cs.ints, n)
	}
	return c
}

// set stores entry i of a column. A value of another kind than the
// column's type (which materialization never writes) is stored as null.
func set(c *featurestorev1.FeatureColumn, i int, v *featurestorev1.Value, st featurestorev1.FeatureStatus, eventMicros int64) {
	c.Statuses[i], c.EventTimeMicros[i] = st, eventMicros
	if st != statusPresent || v == nil {
		return
	}
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		if c.Strings != nil {
			c.Strings[i], c.Nulls[i] = k.StringValue, false
		}
	case *featurestorev1.Value_Int64Value:
		if c.Int64S != nil {
			c.Int64S[i], c.Nulls[i] = k.Int64Value, false
		}
	case *featurestorev1.Value_DoubleValue:
		if c.Doubles != nil {
			c.Doubles[i], c.Nulls[i] = k.DoubleValue, false
		}
	case *featurestorev1.Value_BoolValue:
		if c.Bools != nil {
			c.Bools[i], c.Nulls[i] = k.BoolValue, false
		}
	case *featurestorev1.Value_TimestampValue:
		if c.TimestampMicros != nil {
			c.TimestampMicros[i], c.Nulls[i] = k.TimestampValue.AsTime().UnixMicro(), false
		}
	}
}

// fillFields sets a view's field features from the latest row, with TTL.
func (s *Service) fillFields(g *viewRead, res online.ReadResult, cols []*featurestorev1.FeatureColumn, entity int, now time.Time) {
	if len(g.fields) == 0 || !res.Found {
		return // NOT_FOUND, as the columns start
	}
	ttl := g.view.Compiled.TTL
	expired := ttl > 0 && now.Sub(res.EventTime) > ttl
	et := res.EventTime.UnixMicro()
	for j, pos := range g.fieldPos {
		if expired {
			set(cols[pos], entity, nil, statusExpired, et)
			continue
		}
		var v *featurestorev1.Value
		if j < len(res.Values) {
			v = res.Values[j]
		}
		set(cols[pos], entity, v, statusPresent, et)
	}
}

// fillAggregates computes a view's aggregated features from the entity's
// events, at now, as package features defines them.
func (s *Service) fillAggregates(g *viewRead, res online.ReadResult, cols []*featurestorev1.FeatureColumn, entity int, now time.Time) {
	if len(g.aggs) == 0 {
		return
	}
	events := make([]features.Event, 0, len(res.Events))
	for i, e := range res.Events {
		if e.EventTime.After(now) {
			continue
		}
		events = append(events, features.Event{EntityKey: e.Entity, EventTime: e.EventTime, Seq: uint64(i), Values: e.Inputs})
	}
	if len(events) == 0 {
		return // NOT_FOUND
	}
	for j, r := range g.aggs {
		f := r.view.Compiled.Features[r.feature]
		var et int64
		if newest, ok := newestInWindow(events, now, f.Window); ok {
			et = newest.UnixMicro()
		}
		set(cols[g.aggPos[j]], entity, features.Aggregate(f.Aggregation, f.Type, events, r.feature, now, f.Window), statusPresent, et)
	}
}

func newestInWindow(events []features.Event, t time.Time, window time.Duration) (time.Time, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		et := events[i].EventTime
		if !et.After(t) && et.After(t.Add(-window)) {
			return et, true
		}
		if !et.After(t.Add(-window)) {
			break
		}
	}
	return time.Time{}, false
}
