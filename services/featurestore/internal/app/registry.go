// Package app is the feature store's application: applying definitions
// (who may, against which data products, with which grants), keeping the
// materializers in step with them, and serving features online and point in
// time.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/catalogview"
	"github.com/aifactory/aifactory/libs/outbox"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/adapters"
	"github.com/aifactory/aifactory/services/featurestore/internal/defs"
	"github.com/aifactory/aifactory/services/featurestore/internal/features"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
)

// Service is the feature store application.
type Service struct {
	reg     *adapters.Registry
	hist    *adapters.History
	store   online.Store
	catalog *catalogview.View
	bus     *bus.Bus
	log     *slog.Logger
	now     func() time.Time

	mu    sync.RWMutex
	state *state
	// onChange is called after the definitions changed (to restart the
	// materializers); set by the caller.
	onChange func()
}

// state is the current set of definitions, immutable once built.
type state struct {
	entities map[string]*featurestorev1.Entity
	views    map[string]*View
	services map[string]*featurestorev1.FeatureService
}

// View is a feature view with its compiled form.
type View struct {
	Def      *featurestorev1.FeatureView
	Entity   *featurestorev1.Entity
	Compiled *features.View
	ns       string
}

// newView returns a view with its namespace computed once.
func newView(def *featurestorev1.FeatureView, ent *featurestorev1.Entity, compiled *features.View) *View {
	return &View{Def: def, Entity: ent, Compiled: compiled, ns: fmt.Sprintf("%s@%d", def.GetName(), def.GetVersion())}
}

// Namespace is the online-store namespace of a view version: a new version
// re-materializes into a fresh namespace, so old values never mix in.
func (v *View) Namespace() string { return v.ns }

// New returns the application; call Reload before serving.
func New(reg *adapters.Registry, hist *adapters.History, store online.Store, cat *catalogview.View, b *bus.Bus, log *slog.Logger) *Service {
	return &Service{reg: reg, hist: hist, store: store, catalog: cat, bus: b, log: log, now: time.Now,
		state: &state{entities: map[string]*featurestorev1.Entity{}, views: map[string]*View{}, services: map[string]*featurestorev1.FeatureService{}}}
}

// OnChange registers f to run after definitions changed.
func (s *Service) OnChange(f func()) { s.onChange = f }

// Reload reads the definitions from the registry.
func (s *Service) Reload(ctx context.Context) error {
	all, err := s.reg.All(ctx)
	if err != nil {
		return err
	}
	st := &state{entities: map[string]*featurestorev1.Entity{}, views: map[string]*View{}, services: map[string]*featurestorev1.FeatureService{}}
	for _, d := range all {
		switch m := d.Msg.(type) {
		case *featurestorev1.Entity:
			st.entities[d.Name] = m
		case *featurestorev1.FeatureService:
			st.services[d.Name] = m
		}
	}
	for _, d := range all {
		fv, ok := d.Msg.(*featurestorev1.FeatureView)
		if !ok {
			continue
		}
		ent := st.entities[fv.GetEntity()]
		compiled, err := features.Compile(fv, ent)
		if err != nil {
			s.log.Error("stored feature view does not compile; skipped", "view", fv.GetName(), "err", err)
			continue
		}
		st.views[d.Name] = newView(fv, ent, compiled)
	}
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
	return nil
}

func (s *Service) current() *state {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state
}

// Views returns the current feature views, by name.
func (s *Service) Views() []*View {
	st := s.current()
	out := make([]*View, 0, len(st.views))
	for _, v := range st.views {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Def.GetName() < out[j].Def.GetName() })
	return out
}

// lookup lets defs.Validate see the stored definitions.
type lookup struct{ st *state }

func (l lookup) Entity(name string) (*featurestorev1.Entity, bool) {
	e, ok := l.st.entities[name]
	return e, ok
}

func (l lookup) View(name string) (*featurestorev1.FeatureView, bool) {
	v, ok := l.st.views[name]
	if !ok {
		return nil, false
	}
	return v.Def, true
}

func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, service.PermissionDenied("no principal: call with a bearer token")
	}
	return p, nil
}

// authorizeDomain checks that p may define features for domain.
func (s *Service) authorizeDomain(p auth.Principal, domain string) error {
	ok, err := s.catalog.MayWrite(p, domain)
	switch {
	case err != nil:
		return service.NotFound("domain", domain)
	case !ok:
		return service.PermissionDenied(fmt.Sprintf("%s is not a member of domain %s: only its members define its features", p.Name, domain))
	}
	return nil
}

// Apply validates definitions and stores what changed, as new versions.
func (s *Service) Apply(ctx context.Context, req *featurestorev1.ApplyRequest) (*featurestorev1.ApplyResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := &defs.Definitions{Entities: req.GetEntities(), FeatureViews: req.GetFeatureViews(), FeatureServices: req.GetFeatureServices()}
	var v service.Violations
	if y := req.GetYaml(); y != "" {
		if len(in.Entities)+len(in.FeatureViews)+len(in.FeatureServices) > 0 {
			v.Add("yaml", "give either yaml or structured definitions, not both")
			return nil, v.Err()
		}
		parsed, err := defs.Parse([]byte(y))
		if err != nil {
			v.Add("yaml", err.Error())
			return nil, v.Err()
		}
		in = parsed
	}
	domain := req.GetDomain()
	if domain == "" {
		domain = in.Domain
	}
	if in.Domain != "" && req.GetDomain() != "" && in.Domain != req.GetDomain() {
		v.Add("domain", fmt.Sprintf("the request says %q, the document %q", req.GetDomain(), in.Domain))
	}
	if domain == "" {
		v.Add("domain", "required: the domain owning the definitions (in the request or the document's `domain:`)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.authorizeDomain(p, domain); err != nil {
		return nil, err
	}
	st := s.current()
	for _, fv := range defs.Validate(in, lookup{st}) {
		v.Add(fv.Field, fv.Description)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.checkSources(domain, in, &v); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	plan, err := s.plan(st, domain, in)
	if err != nil {
		return nil, err
	}
	resp := &featurestorev1.ApplyResponse{}
	var (
		changed []adapters.Definition
		events  []outbox.Event
	)
	now := timestamppb.New(s.now())
	for _, c := range plan {
		resp.Changes = append(resp.Changes, c.change)
		if c.change.GetAction() == "unchanged" {
			continue
		}
		stampDefinition(c.def.Msg, c.def.Version, domain, now)
		changed = append(changed, c.def)
		events = append(events, definitionEvent(c.def, p.Name))
	}
	if req.GetDryRun() || len(changed) == 0 {
		return resp, nil
	}
	if err := s.reg.Put(ctx, changed, events); err != nil {
		if errors.Is(err, adapters.ErrVersionConflict) {
			return nil, service.FailedPrecondition(err.Error()+"; apply again", nil)
		}
		return nil, service.Unavailable("store the definitions", err)
	}
	if err := s.Reload(ctx); err != nil {
		return nil, service.Unavailable("reload the definitions", err)
	}
	if s.onChange != nil {
		s.onChange()
	}
	return resp, nil
}

// checkSources verifies each view's source: the product exists, the
// domain may read it (owner or grant), the port is usable, and the fields
// the view reads are in the contract.
func (s *Service) checkSources(domain string, in *defs.Definitions, v *service.Violations) error {
	for i, fv := range in.FeatureViews {
		path := fmt.Sprintf("feature_views[%d].source", i)
		src := fv.GetSource()
		if _, ok := s.catalog.Product(src.GetDomain(), src.GetProduct()); !ok {
			v.Add(path, fmt.Sprintf("data product %s/%s is not in the catalog", src.GetDomain(), src.GetProduct()))
			continue
		}
		if !s.catalog.CanRead(domain, src.GetDomain(), src.GetProduct()) {
			return service.PermissionDenied(fmt.Sprintf(
				"domain %s holds no grant to read %s/%s (feature view %s); its owners grant it with: factoryctl catalog grant %s/%s --to %s",
				domain, src.GetDomain(), src.GetProduct(), fv.GetName(), src.GetDomain(), src.GetProduct(), domain))
		}
		port, err := s.catalog.Resolve(src.GetDomain(), src.GetProduct(), src.GetPort())
		if err != nil {
			v.Add(path, err.Error())
			continue
		}
		fields := contractFields(port.Contract)
		check := func(field, where string) {
			if field != "" && !fields[field] {
				v.Add(fmt.Sprintf("feature_views[%d].%s", i, where), fmt.Sprintf("%q is not a field of %s/%s %s", field, src.GetDomain(), src.GetProduct(), port.Contract.GetVersion()))
			}
		}
		check(fv.GetTimestampField(), "timestamp_field")
		if ent, ok := s.entityOf(in, fv.GetEntity()); ok {
			for _, k := range ent.GetJoinKeys() {
				check(k.GetName(), "entity")
			}
		}
		for j, f := range fv.GetFeatures() {
			where := fmt.Sprintf("features[%d]", j)
			switch {
			case f.GetExpression() != "":
				if e, err := features.ParseExpr(f.GetExpression()); err == nil {
					for _, fld := range e.Fields() {
						check(fld, where+".expression")
					}
				}
			case f.GetAggregation() == featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT,
				f.GetAggregation() == featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST:
				check(f.GetField(), where+".field")
			default:
				fld := f.GetField()
				if fld == "" {
					fld = f.GetName()
				}
				check(fld, where+".field")
			}
		}
	}
	return nil
}

func (s *Service) entityOf(in *defs.Definitions, name string) (*featurestorev1.Entity, bool) {
	for _, e := range in.Entities {
		if e.GetName() == name {
			return e, true
		}
	}
	e, ok := s.current().entities[name]
	return e, ok
}

// contractFields returns the dotted paths of every field of a contract's
// schema objects.
func contractFields(c *catalogv1.Contract) map[string]bool {
	out := map[string]bool{}
	var walk func(prefix string, fs []*catalogv1.Field)
	walk = func(prefix string, fs []*catalogv1.Field) {
		for _, f := range fs {
			p := prefix + f.GetName()
			out[p] = true
			walk(p+".", f.GetProperties())
		}
	}
	for _, o := range c.GetSchema() {
		walk("", o.GetProperties())
	}
	return out
}

type planned struct {
	change *featurestorev1.Change
	def    adapters.Definition
}

// plan compares the document with the stored definitions.
func (s *Service) plan(st *state, domain string, in *defs.Definitions) ([]planned, error) {
	var out []planned
	add := func(kind, name string, msg, cur proto.Message, curVersion int64, curDomain string) error {
		if cur != nil && curDomain != domain {
			return service.PermissionDenied(fmt.Sprintf("%s %s belongs to domain %s; domain %s may not change it", kind, name, curDomain, domain))
		}
		c := &featurestorev1.Change{Kind: kind, Name: name}
		switch {
		case cur == nil:
			c.Action, c.Version = "created", 1
		case defs.Equal(cur, msg):
			c.Action, c.Version = "unchanged", curVersion
		default:
			c.Action, c.Version = "updated", curVersion+1
			c.Details = defs.Diff(cur, msg)
		}
		out = append(out, planned{change: c, def: adapters.Definition{Kind: kind, Name: name, Domain: domain, Version: c.Version, Msg: proto.Clone(msg)}})
		return nil
	}
	for _, e := range in.Entities {
		cur := st.entities[e.GetName()]
		var curMsg proto.Message
		if cur != nil {
			curMsg = cur
		}
		if err := add(adapters.KindEntity, e.GetName(), e, curMsg, cur.GetVersion(), cur.GetDomain()); err != nil {
			return nil, err
		}
	}
	for _, fv := range in.FeatureViews {
		var (
			curMsg proto.Message
			ver    int64
			dom    string
		)
		if cur := st.views[fv.GetName()]; cur != nil {
			curMsg, ver, dom = cur.Def, cur.Def.GetVersion(), cur.Def.GetDomain()
		}
		if err := add(adapters.KindView, fv.GetName(), fv, curMsg, ver, dom); err != nil {
			return nil, err
		}
	}
	for _, fs := range in.FeatureServices {
		cur := st.services[fs.GetName()]
		var curMsg proto.Message
		if cur != nil {
			curMsg = cur
		}
		if err := add(adapters.KindService, fs.GetName(), fs, curMsg, cur.GetVersion(), cur.GetDomain()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stampDefinition sets the output fields of a definition about to be stored.
func stampDefinition(m proto.Message, version int64, domain string, now *timestamppb.Timestamp) {
	switch d := m.(type) {
	case *featurestorev1.Entity:
		d.Version, d.Domain, d.UpdateTime = version, domain, now
	case *featurestorev1.FeatureView:
		d.Version, d.Domain, d.UpdateTime = version, domain, now
	case *featurestorev1.FeatureService:
		d.Version, d.Domain, d.UpdateTime = version, domain, now
	}
}

// definitionEvent is the event of a stored definition, on
// features.<domain>.<kind>s.<name>.
func definitionEvent(d adapters.Definition, actor string) outbox.Event {
	var msg proto.Message
	kind := ""
	switch m := d.Msg.(type) {
	case *featurestorev1.Entity:
		msg, kind = &featurestorev1.EntityChanged{Entity: m, Actor: actor}, "entities"
	case *featurestorev1.FeatureView:
		msg, kind = &featurestorev1.FeatureViewChanged{FeatureView: m, Actor: actor}, "views"
	case *featurestorev1.FeatureService:
		msg, kind = &featurestorev1.FeatureServiceChanged{FeatureService: m, Actor: actor}, "services"
	}
	return outbox.Event{
		ID:      fmt.Sprintf("%s:%s:%d", d.Kind, d.Name, d.Version),
		Subject: "features." + d.Domain + "." + kind + "." + d.Name,
		Msg:     msg,
	}
}

// Entities, FeatureViews, FeatureServices list the current definitions.
func (s *Service) Entities() []*featurestorev1.Entity {
	st := s.current()
	out := make([]*featurestorev1.Entity, 0, len(st.entities))
	for _, e := range st.entities {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// FeatureViews lists the views, optionally of one entity.
func (s *Service) FeatureViews(entity string) []*featurestorev1.FeatureView {
	var out []*featurestorev1.FeatureView
	for _, v := range s.Views() {
		if entity == "" || v.Def.GetEntity() == entity {
			out = append(out, v.Def)
		}
	}
	return out
}

// FeatureServices lists the feature services.
func (s *Service) FeatureServices() []*featurestorev1.FeatureService {
	st := s.current()
	out := make([]*featurestorev1.FeatureService, 0, len(st.services))
	for _, fs := range st.services {
		out = append(out, fs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// FeatureView returns one view.
func (s *Service) FeatureView(name string) (*featurestorev1.FeatureView, error) {
	v, ok := s.current().views[name]
	if !ok {
		return nil, service.NotFound("feature view", name)
	}
	return v.Def, nil
}

// FeatureService returns one feature service.
func (s *Service) FeatureService(name string) (*featurestorev1.FeatureService, error) {
	fs, ok := s.current().services[name]
	if !ok {
		return nil, service.NotFound("feature service", name)
	}
	return fs, nil
}

// ref is a resolved "view:feature" reference.
type ref struct {
	name    string // "view:feature"
	view    *View
	feature int // index into view.Compiled.Features
}

// resolveRefs turns a feature service or explicit references into refs.
func (s *Service) resolveRefs(service_ string, refs []string) ([]ref, error) {
	var v service.Violations
	st := s.current()
	switch {
	case service_ != "" && len(refs) > 0:
		v.Add("features", "give a feature service or feature references, not both")
		return nil, v.Err()
	case service_ != "":
		fs, ok := st.services[service_]
		if !ok {
			return nil, service.NotFound("feature service", service_)
		}
		refs = fs.GetFeatures()
	case len(refs) == 0:
		v.Add("features", "name a feature service or at least one view:feature reference")
		return nil, v.Err()
	}
	if len(refs) > defs.MaxRefsPerService {
		v.Add("features", fmt.Sprintf("has %d references; the limit is %d", len(refs), defs.MaxRefsPerService))
		return nil, v.Err()
	}
	out := make([]ref, 0, len(refs))
	for i, r := range refs {
		viewName, feat, ok := strings.Cut(r, ":")
		view := st.views[viewName]
		if !ok || view == nil {
			v.Add(fmt.Sprintf("features[%d]", i), fmt.Sprintf("%q: want view:feature with an existing view", r))
			continue
		}
		idx, ok := view.Compiled.Feature(feat)
		if !ok {
			v.Add(fmt.Sprintf("features[%d]", i), fmt.Sprintf("view %s has no feature %q", viewName, feat))
			continue
		}
		out = append(out, ref{name: r, view: view, feature: idx})
	}
	return out, v.Err()
}
