package defs

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aifactory/aifactory/libs/names"
	"github.com/aifactory/aifactory/services/featurestore/internal/features"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// FieldViolation is one broken rule: the path of the offending field (as
// in ApplyRequest / features.yaml, e.g. "feature_views[0].features[2].window")
// and what is wrong. The service maps them to InvalidArgument
// BadRequest.FieldViolation details.
type FieldViolation struct {
	Field       string
	Description string
}

func (v FieldViolation) String() string { return v.Field + ": " + v.Description }

// Lookup gives Validate the definitions already applied, for references
// the document does not define itself. A nil Lookup knows nothing.
type Lookup interface {
	Entity(name string) (*featurestorev1.Entity, bool)
	View(name string) (*featurestorev1.FeatureView, bool)
}

// MaxNameLen bounds names and DNS labels.
const MaxNameLen = 63

// MaxWindow is the longest aggregation window.
const MaxWindow = 366 * 24 * time.Hour

var (
	nameRE      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	fieldPathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_0-9]+)*$`)
)

type validator struct {
	out []FieldViolation
}

func (v *validator) add(field, format string, args ...any) {
	v.out = append(v.out, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

func (v *validator) name(field, name string) bool {
	switch {
	case name == "":
		v.add(field, "is required")
	case len(name) > MaxNameLen:
		v.add(field, "%q is longer than %d characters", name, MaxNameLen)
	case !nameRE.MatchString(name):
		v.add(field, "%q is not lowercase snake_case (^[a-z][a-z0-9_]*$)", name)
	default:
		return true
	}
	return false
}

func (v *validator) dnsLabel(field, s string, required bool) {
	switch {
	case s == "":
		if required {
			v.add(field, "is required")
		}
	case len(s) > MaxNameLen:
		v.add(field, "%q is longer than %d characters", s, MaxNameLen)
	case !names.IsLabel(s):
		v.add(field, "%q is not a DNS label (lowercase letters, digits and inner dashes)", s)
	}
}

func (v *validator) fieldPath(field, s string) {
	if !fieldPathRE.MatchString(s) || len(s) > 255 {
		v.add(field, "%q is not a field path (names joined by dots, e.g. order.total)", s)
	}
}

// Validate checks d against the rules in the package documentation and
// returns every violation (none means valid). lookup resolves entities and
// views the document refers to without defining; it may be nil.
func Validate(d *Definitions, lookup Lookup) []FieldViolation {
	v := &validator{}
	if d == nil {
		return nil
	}
	v.dnsLabel("domain", d.Domain, false)
	if n := len(d.Entities) + len(d.FeatureViews) + len(d.FeatureServices); n > MaxDefinitions {
		v.add("", "%d definitions exceed the limit of %d per document", n, MaxDefinitions)
		return v.out
	}
	entities := map[string]*featurestorev1.Entity{}
	for i, e := range d.Entities {
		p := fmt.Sprintf("entities[%d]", i)
		if e == nil {
			v.add(p, "is empty")
			continue
		}
		if v.name(p+".name", e.GetName()) {
			if _, dup := entities[e.GetName()]; dup {
				v.add(p+".name", "entity %q is defined twice", e.GetName())
			}
			entities[e.GetName()] = e
		}
		if len(e.GetJoinKeys()) == 0 {
			v.add(p+".join_keys", "an entity needs at least one join key")
		}
		keys := map[string]bool{}
		for j, k := range e.GetJoinKeys() {
			kp := fmt.Sprintf("%s.join_keys[%d]", p, j)
			if v.name(kp+".name", k.GetName()) {
				if keys[k.GetName()] {
					v.add(kp+".name", "join key %q is listed twice", k.GetName())
				}
				keys[k.GetName()] = true
			}
			v.valueType(kp+".type", k.GetType())
		}
	}
	entityOf := func(name string) (*featurestorev1.Entity, bool) {
		if e, ok := entities[name]; ok {
			return e, true
		}
		if lookup != nil {
			return lookup.Entity(name)
		}
		return nil, false
	}

	views := map[string]*featurestorev1.FeatureView{}
	for i, fv := range d.FeatureViews {
		p := fmt.Sprintf("feature_views[%d]", i)
		if fv == nil {
			v.add(p, "is empty")
			continue
		}
		if v.name(p+".name", fv.GetName()) {
			if _, dup := views[fv.GetName()]; dup {
				v.add(p+".name", "feature view %q is defined twice", fv.GetName())
			}
			views[fv.GetName()] = fv
		}
		v.view(p, fv, entityOf)
	}

	services := map[string]bool{}
	for i, fs := range d.FeatureServices {
		p := fmt.Sprintf("feature_services[%d]", i)
		if fs == nil {
			v.add(p, "is empty")
			continue
		}
		if v.name(p+".name", fs.GetName()) {
			if services[fs.GetName()] {
				v.add(p+".name", "feature service %q is defined twice", fs.GetName())
			}
			services[fs.GetName()] = true
		}
		refs := fs.GetFeatures()
		switch {
		case len(refs) == 0:
			v.add(p+".features", "a feature service needs at least one feature")
		case len(refs) > MaxRefsPerService:
			v.add(p+".features", "%d features exceed the limit of %d", len(refs), MaxRefsPerService)
			continue
		}
		seen := map[string]bool{}
		for j, ref := range refs {
			rp := fmt.Sprintf("%s.features[%d]", p, j)
			if seen[ref] {
				v.add(rp, "%q is listed twice", ref)
				continue
			}
			seen[ref] = true
			viewName, feature, ok := strings.Cut(ref, ":")
			if !ok || viewName == "" || feature == "" {
				v.add(rp, "%q is not a view:feature reference", ref)
				continue
			}
			fv, ok := views[viewName]
			if !ok && lookup != nil {
				fv, ok = lookup.View(viewName)
			}
			if !ok {
				v.add(rp, "feature view %q does not exist", viewName)
				continue
			}
			found := false
			for _, f := range fv.GetFeatures() {
				if f.GetName() == feature {
					found = true
					break
				}
			}
			if !found {
				v.add(rp, "feature view %q has no feature %q", viewName, feature)
			}
		}
	}
	return v.out
}

func (v *validator) valueType(field string, t featurestorev1.ValueType) {
	switch {
	case t == featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED:
		v.add(field, "is required (string, int64, double, bool or timestamp)")
	case featurestorev1.ValueType_name[int32(t)] == "":
		v.add(field, "unknown type %d", t)
	}
}

func (v *validator) duration(field string, d interface {
	CheckValid() error
	AsDuration() time.Duration
}) (time.Duration, bool) {
	if err := d.CheckValid(); err != nil {
		v.add(field, "invalid duration: %v", err)
		return 0, false
	}
	return d.AsDuration(), true
}

func (v *validator) view(p string, fv *featurestorev1.FeatureView, entityOf func(string) (*featurestorev1.Entity, bool)) {
	if fv.GetEntity() == "" {
		v.add(p+".entity", "is required")
	} else if _, ok := entityOf(fv.GetEntity()); !ok {
		v.add(p+".entity", "entity %q does not exist", fv.GetEntity())
	}
	if fv.GetSource() == nil {
		v.add(p+".source", "is required (domain and product)")
	} else {
		v.dnsLabel(p+".source.domain", fv.GetSource().GetDomain(), true)
		v.dnsLabel(p+".source.product", fv.GetSource().GetProduct(), true)
		v.dnsLabel(p+".source.port", fv.GetSource().GetPort(), false)
	}
	if fv.GetTimestampField() == "" {
		v.add(p+".timestamp_field", "is required")
	} else {
		v.fieldPath(p+".timestamp_field", fv.GetTimestampField())
	}
	if fv.GetTtl() != nil {
		if ttl, ok := v.duration(p+".ttl", fv.GetTtl()); ok && ttl < 0 {
			v.add(p+".ttl", "must not be negative (0 means forever)")
		}
	}
	tags := map[string]bool{}
	for j, t := range fv.GetTags() {
		tp := fmt.Sprintf("%s.tags[%d]", p, j)
		switch {
		case strings.TrimSpace(t) == "":
			v.add(tp, "is empty")
		case len(t) > MaxNameLen:
			v.add(tp, "%q is longer than %d characters", t, MaxNameLen)
		case tags[t]:
			v.add(tp, "%q is listed twice", t)
		}
		tags[t] = true
	}
	fs := fv.GetFeatures()
	switch {
	case len(fs) == 0:
		v.add(p+".features", "a feature view needs at least one feature")
	case len(fs) > MaxFeaturesPerView:
		v.add(p+".features", "%d features exceed the limit of %d", len(fs), MaxFeaturesPerView)
		return
	}
	names := map[string]bool{}
	for j, f := range fs {
		fp := fmt.Sprintf("%s.features[%d]", p, j)
		if f == nil {
			v.add(fp, "is empty")
			continue
		}
		if v.name(fp+".name", f.GetName()) {
			if names[f.GetName()] {
				v.add(fp+".name", "feature %q is defined twice", f.GetName())
			}
			names[f.GetName()] = true
		}
		v.feature(fp, f)
	}
}

func (v *validator) feature(fp string, f *featurestorev1.Feature) {
	const (
		tInt64  = featurestorev1.ValueType_VALUE_TYPE_INT64
		tDouble = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
		tBool   = featurestorev1.ValueType_VALUE_TYPE_BOOL
	)
	typ := f.GetType()
	v.valueType(fp+".type", typ)
	hasField, hasExpr := f.GetField() != "", f.GetExpression() != ""
	if hasField {
		v.fieldPath(fp+".field", f.GetField())
	}
	if hasExpr {
		if _, err := features.ParseExpr(f.GetExpression()); err != nil {
			v.add(fp+".expression", "%v", err)
		}
	}
	if hasField && hasExpr {
		v.add(fp+".field", "set field or expression, not both")
	}
	exprType := func() {
		if hasExpr && typ != featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED && typ != tInt64 && typ != tDouble && typ != tBool {
			v.add(fp+".type", "an expression gives 1 or 0: the type must be int64, double or bool")
		}
	}
	agg := f.GetAggregation()
	var window time.Duration
	hasWindow := false
	if f.GetWindow() != nil {
		var ok bool
		if window, ok = v.duration(fp+".window", f.GetWindow()); ok && window != 0 {
			hasWindow = true
		}
	}
	if agg == featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_UNSPECIFIED {
		if hasWindow {
			v.add(fp+".window", "a window needs an aggregation")
		}
		exprType()
		return
	}
	name := strings.ToLower(strings.TrimPrefix(agg.String(), "AGGREGATION_FUNCTION_"))
	switch {
	case featurestorev1.AggregationFunction_name[int32(agg)] == "":
		v.add(fp+".aggregation", "unknown aggregation %d", agg)
		return
	case !hasWindow:
		v.add(fp+".window", "%s needs a window", name)
	case window < 0:
		v.add(fp+".window", "must be positive")
	case window > MaxWindow:
		v.add(fp+".window", "%s exceeds the longest window, 366d", FormatDuration(window))
	}
	wantType := func(ok bool, want string) {
		if typ != featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED && !ok {
			v.add(fp+".type", "%s gives %s", name, want)
		}
	}
	needInput := func() {
		if !hasField && !hasExpr {
			v.add(fp+".field", "%s needs a field or an expression", name)
		}
	}
	switch agg {
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT,
		featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST:
		if agg == featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT {
			wantType(typ == tInt64, "int64")
		} else {
			wantType(typ == tDouble, "double")
		}
		if hasExpr {
			v.add(fp+".expression", "%s reads no input; to count matching events, sum the expression", name)
		}
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM,
		featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MIN,
		featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MAX:
		wantType(typ == tInt64 || typ == tDouble, "int64 or double")
		needInput()
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG:
		wantType(typ == tDouble, "double")
		needInput()
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT:
		wantType(typ == tInt64, "int64")
		needInput()
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_LAST:
		needInput()
		exprType()
	}
}
