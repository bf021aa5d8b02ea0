package defs

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Equal reports whether two definitions (both *Entity, both *FeatureView
// or both *FeatureService) define the same thing, ignoring the output
// fields domain, version and update_time. An absent duration equals 0, and
// a plain feature's field equal to its name equals no field.
func Equal(a, b proto.Message) bool {
	return proto.Equal(normalize(a), normalize(b))
}

func normalize(m proto.Message) proto.Message {
	if m == nil {
		return nil
	}
	switch x := proto.Clone(m).(type) {
	case *featurestorev1.Entity:
		x.Domain, x.Version, x.UpdateTime = "", 0, nil
		return x
	case *featurestorev1.FeatureView:
		x.Domain, x.Version, x.UpdateTime = "", 0, nil
		x.Ttl = normDuration(x.Ttl)
		if x.Source != nil && proto.Equal(x.Source, &featurestorev1.Source{}) {
			x.Source = nil
		}
		for _, f := range x.Features {
			normFeature(f)
		}
		return x
	case *featurestorev1.FeatureService:
		x.Domain, x.Version, x.UpdateTime = "", 0, nil
		return x
	default:
		return x
	}
}

func normFeature(f *featurestorev1.Feature) {
	if f == nil {
		return
	}
	f.Window = normDuration(f.Window)
	if f.Aggregation == featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_UNSPECIFIED && f.Field == f.Name && f.Expression == "" {
		f.Field = ""
	}
}

func normDuration(d *durationpb.Duration) *durationpb.Duration {
	if d != nil && d.Seconds == 0 && d.Nanos == 0 {
		return nil
	}
	return d
}

// Diff lists in words how new differs from old (same kind as for Equal),
// e.g. "ttl 30d → 60d", "feature spend_7d: window 7d → 14d",
// "features added: x, y". Empty when Equal.
func Diff(old, new proto.Message) []string {
	switch o := normalize(old).(type) {
	case *featurestorev1.Entity:
		n, ok := normalize(new).(*featurestorev1.Entity)
		if !ok {
			return []string{"kind changed"}
		}
		return diffEntity(o, n)
	case *featurestorev1.FeatureView:
		n, ok := normalize(new).(*featurestorev1.FeatureView)
		if !ok {
			return []string{"kind changed"}
		}
		return diffView(o, n)
	case *featurestorev1.FeatureService:
		n, ok := normalize(new).(*featurestorev1.FeatureService)
		if !ok {
			return []string{"kind changed"}
		}
		return diffService(o, n)
	}
	if !proto.Equal(old, new) {
		return []string{"changed"}
	}
	return nil
}

func change(out []string, what, a, b string) []string {
	if a != b {
		out = append(out, fmt.Sprintf("%s %s → %s", what, show(a), show(b)))
	}
	return out
}

func show(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 60 {
		s = s[:57] + "…"
	}
	if strings.ContainsAny(s, " \t\n:,") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func typeName(t featurestorev1.ValueType) string {
	if t == 0 {
		return ""
	}
	for n, v := range typeNames {
		if v == t {
			return n
		}
	}
	return t.String()
}

func aggName(a featurestorev1.AggregationFunction) string {
	if a == 0 {
		return ""
	}
	for n, v := range aggregationNames {
		if v == a {
			return n
		}
	}
	return a.String()
}

func durText(d *durationpb.Duration) string {
	if d == nil {
		return "0"
	}
	return FormatDuration(d.AsDuration())
}

// addedRemoved reports names added to / removed from a list.
func addedRemoved(out []string, what string, old, new []string) []string {
	var added, removed []string
	for _, n := range new {
		if !slices.Contains(old, n) {
			added = append(added, n)
		}
	}
	for _, o := range old {
		if !slices.Contains(new, o) {
			removed = append(removed, o)
		}
	}
	if len(added) > 0 {
		out = append(out, what+" added: "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		out = append(out, what+" removed: "+strings.Join(removed, ", "))
	}
	if len(added) == 0 && len(removed) == 0 && !slices.Equal(old, new) {
		out = append(out, what+" reordered")
	}
	return out
}

func diffEntity(o, n *featurestorev1.Entity) []string {
	var out []string
	out = change(out, "description", o.Description, n.Description)
	keyText := func(ks []*featurestorev1.JoinKey) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, k.GetName()+" "+typeName(k.GetType()))
		}
		return strings.Join(parts, ", ")
	}
	if a, b := keyText(o.JoinKeys), keyText(n.JoinKeys); a != b {
		out = append(out, fmt.Sprintf("join keys [%s] → [%s]", a, b))
	}
	return out
}

func diffView(o, n *featurestorev1.FeatureView) []string {
	var out []string
	out = change(out, "description", o.Description, n.Description)
	out = change(out, "entity", o.Entity, n.Entity)
	src := func(s *featurestorev1.Source) string {
		if s == nil {
			return ""
		}
		t := s.GetDomain() + "/" + s.GetProduct()
		if s.GetPort() != "" {
			t += "/" + s.GetPort()
		}
		return t
	}
	out = change(out, "source", src(o.Source), src(n.Source))
	out = change(out, "timestamp_field", o.TimestampField, n.TimestampField)
	out = change(out, "ttl", durText(o.Ttl), durText(n.Ttl))
	out = addedRemoved(out, "tags", o.Tags, n.Tags)
	names := func(fs []*featurestorev1.Feature) []string {
		var ns []string
		for _, f := range fs {
			ns = append(ns, f.GetName())
		}
		return ns
	}
	out = addedRemoved(out, "features", names(o.Features), names(n.Features))
	for _, nf := range n.Features {
		i := slices.IndexFunc(o.Features, func(f *featurestorev1.Feature) bool { return f.GetName() == nf.GetName() })
		if i < 0 {
			continue
		}
		of := o.Features[i]
		var fd []string
		fd = change(fd, "type", typeName(of.GetType()), typeName(nf.GetType()))
		fd = change(fd, "description", of.GetDescription(), nf.GetDescription())
		fd = change(fd, "field", of.GetField(), nf.GetField())
		fd = change(fd, "expression", of.GetExpression(), nf.GetExpression())
		fd = change(fd, "aggregation", aggName(of.GetAggregation()), aggName(nf.GetAggregation()))
		fd = change(fd, "window", durText(of.GetWindow()), durText(nf.GetWindow()))
		for _, d := range fd {
			out = append(out, "feature "+nf.GetName()+": "+d)
		}
	}
	return out
}

func diffService(o, n *featurestorev1.FeatureService) []string {
	var out []string
	out = change(out, "description", o.Description, n.Description)
	out = addedRemoved(out, "features", o.Features, n.Features)
	return out
}
