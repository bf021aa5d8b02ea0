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
	if n := len(req.GetEntities()); n == 0 || n > MaxOnlineEntities {
		v.Add("entities", fmt.Sprintf("has %d entities; give 1 to %d", n, MaxOnlineEntities))
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
		for ei, row := range req.GetEntities() {
			key, err := features.KeyFromRow(row.GetJoinKeys(), g.view.Entity)
			if err != nil {
				v.Add(fmt.Sprintf("entities[%d]", ei), err.Error())
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
		Results:      make([]*featurestorev1.FeatureVector, len(req.GetEntities())),
	}
	for i, r := range refs {
		resp.FeatureNames[i] = r.name
	}
	for i := range resp.Results {
		resp.Results[i] = &featurestorev1.FeatureVector{
			Values:          make([]*featurestorev1.Value, len(refs)),
			Statuses:        make([]featurestorev1.FeatureStatus, len(refs)),
			EventTimeMicros: make([]int64, len(refs)),
		}
	}
	for i, res := range results {
		g, vec := groups[owner[i][0]], resp.Results[owner[i][1]]
		s.fillFields(g, res, vec, now)
		s.fillAggregates(g, res, vec, now)
	}
	for _, vec := range resp.Results {
		for i := range vec.Values {
			if vec.Values[i] == nil {
				vec.Values[i] = &featurestorev1.Value{}
			}
			if vec.Statuses[i] == featurestorev1.FeatureStatus_FEATURE_STATUS_UNSPECIFIED {
				vec.Statuses[i] = statusNotFound
			}
		}
	}
	return resp, nil
}

// fillFields sets a view's field features from the latest row, with TTL.
func (s *Service) fillFields(g *viewRead, res online.ReadResult, vec *featurestorev1.FeatureVector, now time.Time) {
	if len(g.fields) == 0 {
		return
	}
	if !res.Found {
		for _, pos := range g.fieldPos {
			vec.Statuses[pos] = statusNotFound
		}
		return
	}
	ttl := g.view.Compiled.TTL
	expired := ttl > 0 && now.Sub(res.EventTime) > ttl
	et := res.EventTime.UnixMicro()
	for j, pos := range g.fieldPos {
		vec.EventTimeMicros[pos] = et
		if expired {
			vec.Statuses[pos] = statusExpired
			continue
		}
		vec.Statuses[pos] = statusPresent
		if j < len(res.Values) {
			vec.Values[pos] = res.Values[j]
		}
	}
}

// fillAggregates computes a view's aggregated features from the entity's
// events, at now, as package features defines them.
func (s *Service) fillAggregates(g *viewRead, res online.ReadResult, vec *featurestorev1.FeatureVector, now time.Time) {
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
	for j, r := range g.aggs {
		pos := g.aggPos[j]
		if len(events) == 0 {
			vec.Statuses[pos] = statusNotFound
			continue
		}
		f := r.view.Compiled.Features[r.feature]
		vec.Values[pos] = features.Aggregate(f.Aggregation, f.Type, events, r.feature, now, f.Window)
		vec.Statuses[pos] = statusPresent
		if newest, ok := newestInWindow(events, now, f.Window); ok {
			vec.EventTimeMicros[pos] = newest.UnixMicro()
		}
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
