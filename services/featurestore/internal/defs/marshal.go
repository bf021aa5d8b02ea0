package defs

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

type yDoc struct {
	Domain          string     `yaml:"domain,omitempty"`
	Entities        []yEntity  `yaml:"entities,omitempty"`
	FeatureViews    []yView    `yaml:"feature_views,omitempty"`
	FeatureServices []yService `yaml:"feature_services,omitempty"`
}

type yEntity struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description,omitempty"`
	JoinKeys    []yJoinKey `yaml:"join_keys,omitempty"`
}

type yJoinKey struct {
	Name string `yaml:"name"`
	Type string `yaml:"type,omitempty"`
}

type ySource struct {
	Domain  string `yaml:"domain,omitempty"`
	Product string `yaml:"product,omitempty"`
	Port    string `yaml:"port,omitempty"`
}

type yView struct {
	Name           string     `yaml:"name"`
	Description    string     `yaml:"description,omitempty"`
	Entity         string     `yaml:"entity,omitempty"`
	Source         *ySource   `yaml:"source,omitempty"`
	TimestampField string     `yaml:"timestamp_field,omitempty"`
	TTL            *string    `yaml:"ttl,omitempty"`
	Tags           []string   `yaml:"tags,omitempty"`
	Features       []yFeature `yaml:"features,omitempty"`
}

type yFeature struct {
	Name        string  `yaml:"name"`
	Type        string  `yaml:"type,omitempty"`
	Description string  `yaml:"description,omitempty"`
	Field       string  `yaml:"field,omitempty"`
	Expression  string  `yaml:"expression,omitempty"`
	Aggregation string  `yaml:"aggregation,omitempty"`
	Window      *string `yaml:"window,omitempty"`
}

type yService struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description,omitempty"`
	Features    []string `yaml:"features,omitempty"`
}

// Marshal writes d in the features.yaml format; Parse(Marshal(d)) equals
// d. Per-definition domain, version and update_time are not written.
// Unknown enum values are errors.
func Marshal(d *Definitions) ([]byte, error) {
	if d == nil {
		d = &Definitions{}
	}
	doc := yDoc{Domain: d.Domain}
	for i, e := range d.Entities {
		ye := yEntity{Name: e.GetName(), Description: e.GetDescription()}
		for j, k := range e.GetJoinKeys() {
			t, err := typeText(k.GetType())
			if err != nil {
				return nil, fmt.Errorf("entities[%d].join_keys[%d].type: %w", i, j, err)
			}
			ye.JoinKeys = append(ye.JoinKeys, yJoinKey{Name: k.GetName(), Type: t})
		}
		doc.Entities = append(doc.Entities, ye)
	}
	for i, fv := range d.FeatureViews {
		yv := yView{
			Name: fv.GetName(), Description: fv.GetDescription(), Entity: fv.GetEntity(),
			TimestampField: fv.GetTimestampField(), Tags: fv.GetTags(), TTL: durPtr(fv.GetTtl()),
		}
		if s := fv.GetSource(); s != nil {
			yv.Source = &ySource{Domain: s.GetDomain(), Product: s.GetProduct(), Port: s.GetPort()}
		}
		for j, f := range fv.GetFeatures() {
			t, err := typeText(f.GetType())
			if err != nil {
				return nil, fmt.Errorf("feature_views[%d].features[%d].type: %w", i, j, err)
			}
			a := ""
			if f.GetAggregation() != 0 {
				if a = aggName(f.GetAggregation()); a == f.GetAggregation().String() {
					return nil, fmt.Errorf("feature_views[%d].features[%d].aggregation: unknown aggregation %d", i, j, f.GetAggregation())
				}
			}
			yv.Features = append(yv.Features, yFeature{
				Name: f.GetName(), Type: t, Description: f.GetDescription(), Field: f.GetField(),
				Expression: f.GetExpression(), Aggregation: a, Window: durPtr(f.GetWindow()),
			})
		}
		doc.FeatureViews = append(doc.FeatureViews, yv)
	}
	for _, fs := range d.FeatureServices {
		doc.FeatureServices = append(doc.FeatureServices, yService{Name: fs.GetName(), Description: fs.GetDescription(), Features: fs.GetFeatures()})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("marshal features.yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal features.yaml: %w", err)
	}
	return buf.Bytes(), nil
}

func typeText(t featurestorev1.ValueType) (string, error) {
	if t == 0 {
		return "", nil
	}
	if n := typeName(t); n != t.String() {
		return n, nil
	}
	return "", fmt.Errorf("unknown type %d", t)
}

func durPtr(d *durationpb.Duration) *string {
	if d == nil {
		return nil
	}
	s := FormatDuration(d.AsDuration())
	return &s
}
