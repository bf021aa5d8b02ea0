package defs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Limits.
const (
	// MaxDocumentSize is the largest features.yaml Parse reads.
	MaxDocumentSize = 1 << 20
	// MaxDefinitions bounds entities + views + services in one document.
	MaxDefinitions = 1000
	// MaxFeaturesPerView bounds the features of one view.
	MaxFeaturesPerView = 100
	// MaxRefsPerService bounds the feature references of one service.
	MaxRefsPerService = 500
)

// Definitions is the content of one features.yaml document.
type Definitions struct {
	// Domain owning the definitions, if the document names one.
	Domain          string
	Entities        []*featurestorev1.Entity
	FeatureViews    []*featurestorev1.FeatureView
	FeatureServices []*featurestorev1.FeatureService
}

// ParseError is a malformed document: the path of the offending value
// (e.g. "feature_views[0].ttl"), its line when known, and what is wrong.
type ParseError struct {
	Path string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Parse reads a features.yaml document; see the package documentation.
// Errors are *ParseError. Parse checks the shape only; Validate checks the
// rules.
func Parse(data []byte) (*Definitions, error) {
	if len(data) > MaxDocumentSize {
		return nil, &ParseError{Msg: fmt.Sprintf("document of %d bytes exceeds %d", len(data), MaxDocumentSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Definitions{}, nil // empty document
		}
		return nil, &ParseError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, &ParseError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		return nil, &ParseError{Line: extra.Line, Msg: "more than one YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return &Definitions{}, nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return &Definitions{}, nil
	}
	d := &Definitions{}
	err := eachKey(root, "", func(key string, v *yaml.Node, path string) error {
		var err error
		switch key {
		case "domain":
			d.Domain, err = str(v, path)
		case "entities":
			err = each(v, path, func(n *yaml.Node, p string) error {
				e, err := parseEntity(n, p)
				d.Entities = append(d.Entities, e)
				return err
			})
		case "feature_views":
			err = each(v, path, func(n *yaml.Node, p string) error {
				fv, err := parseView(n, p)
				d.FeatureViews = append(d.FeatureViews, fv)
				return err
			})
		case "feature_services":
			err = each(v, path, func(n *yaml.Node, p string) error {
				fs, err := parseService(n, p)
				d.FeatureServices = append(d.FeatureServices, fs)
				return err
			})
		default:
			return unknownKey(v, path)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func parseEntity(n *yaml.Node, path string) (*featurestorev1.Entity, error) {
	e := &featurestorev1.Entity{}
	err := eachKey(n, path, func(key string, v *yaml.Node, p string) error {
		var err error
		switch key {
		case "name":
			e.Name, err = str(v, p)
		case "description":
			e.Description, err = str(v, p)
		case "join_keys":
			err = each(v, p, func(kn *yaml.Node, kp string) error {
				k := &featurestorev1.JoinKey{}
				e.JoinKeys = append(e.JoinKeys, k)
				if kn.Kind == yaml.ScalarNode && !isNull(kn) { // shorthand: a string key
					k.Type = featurestorev1.ValueType_VALUE_TYPE_STRING
					k.Name = kn.Value
					return nil
				}
				return eachKey(kn, kp, func(key string, v *yaml.Node, p string) error {
					var err error
					switch key {
					case "name":
						k.Name, err = str(v, p)
					case "type":
						k.Type, err = valueType(v, p)
					default:
						return unknownKey(v, p)
					}
					return err
				})
			})
		default:
			return unknownKey(v, p)
		}
		return err
	})
	return e, err
}

func parseView(n *yaml.Node, path string) (*featurestorev1.FeatureView, error) {
	fv := &featurestorev1.FeatureView{}
	err := eachKey(n, path, func(key string, v *yaml.Node, p string) error {
		var err error
		switch key {
		case "name":
			fv.Name, err = str(v, p)
		case "description":
			fv.Description, err = str(v, p)
		case "entity":
			fv.Entity, err = str(v, p)
		case "source":
			src := &featurestorev1.Source{}
			fv.Source = src
			err = eachKey(v, p, func(key string, v *yaml.Node, p string) error {
				var err error
				switch key {
				case "domain":
					src.Domain, err = str(v, p)
				case "product":
					src.Product, err = str(v, p)
				case "port":
					src.Port, err = str(v, p)
				default:
					return unknownKey(v, p)
				}
				return err
			})
		case "timestamp_field":
			fv.TimestampField, err = str(v, p)
		case "ttl":
			fv.Ttl, err = duration(v, p)
		case "tags":
			err = each(v, p, func(tn *yaml.Node, tp string) error {
				s, err := str(tn, tp)
				fv.Tags = append(fv.Tags, s)
				return err
			})
		case "features":
			err = each(v, p, func(fn *yaml.Node, fp string) error {
				f, err := parseFeature(fn, fp)
				fv.Features = append(fv.Features, f)
				return err
			})
		default:
			return unknownKey(v, p)
		}
		return err
	})
	return fv, err
}

func parseFeature(n *yaml.Node, path string) (*featurestorev1.Feature, error) {
	f := &featurestorev1.Feature{}
	err := eachKey(n, path, func(key string, v *yaml.Node, p string) error {
		var err error
		switch key {
		case "name":
			f.Name, err = str(v, p)
		case "type":
			f.Type, err = valueType(v, p)
		case "description":
			f.Description, err = str(v, p)
		case "field":
			f.Field, err = str(v, p)
		case "expression":
			f.Expression, err = str(v, p)
		case "aggregation":
			f.Aggregation, err = aggregation(v, p)
		case "window":
			f.Window, err = duration(v, p)
		default:
			return unknownKey(v, p)
		}
		return err
	})
	return f, err
}

func parseService(n *yaml.Node, path string) (*featurestorev1.FeatureService, error) {
	fs := &featurestorev1.FeatureService{}
	err := eachKey(n, path, func(key string, v *yaml.Node, p string) error {
		var err error
		switch key {
		case "name":
			fs.Name, err = str(v, p)
		case "description":
			fs.Description, err = str(v, p)
		case "features":
			err = each(v, p, func(rn *yaml.Node, rp string) error {
				s, err := str(rn, rp)
				fs.Features = append(fs.Features, s)
				return err
			})
		default:
			return unknownKey(v, p)
		}
		return err
	})
	return fs, err
}

// ---- node helpers ----

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if isNull(n) {
		return "null"
	}
	return fmt.Sprintf("%q", n.Value)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func unknownKey(v *yaml.Node, path string) error {
	return &ParseError{Path: path, Line: v.Line, Msg: "unknown key"}
}

// eachKey walks a mapping, rejecting duplicate and non-string keys; a
// null value counts as an empty mapping.
func eachKey(n *yaml.Node, path string, fn func(key string, v *yaml.Node, path string) error) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &ParseError{Path: path, Line: n.Line, Msg: "want a mapping, got " + kindName(n)}
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			return &ParseError{Path: path, Line: k.Line, Msg: "keys must be plain names"}
		}
		if seen[k.Value] {
			return &ParseError{Path: p, Line: k.Line, Msg: "duplicate key"}
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			return &ParseError{Path: p, Line: v.Line, Msg: "aliases are not supported"}
		}
		if err := fn(k.Value, v, p); err != nil {
			return err
		}
	}
	return nil
}

// each walks a sequence; null counts as empty.
func each(n *yaml.Node, path string, fn func(n *yaml.Node, path string) error) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return &ParseError{Path: path, Line: n.Line, Msg: "want a list, got " + kindName(n)}
	}
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if c.Kind == yaml.AliasNode {
			return &ParseError{Path: p, Line: c.Line, Msg: "aliases are not supported"}
		}
		if err := fn(c, p); err != nil {
			return err
		}
	}
	return nil
}

// str reads a scalar as a string (null is "").
func str(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", &ParseError{Path: path, Line: n.Line, Msg: "want a string, got " + kindName(n)}
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}

var typeNames = map[string]featurestorev1.ValueType{
	"string":    featurestorev1.ValueType_VALUE_TYPE_STRING,
	"int64":     featurestorev1.ValueType_VALUE_TYPE_INT64,
	"double":    featurestorev1.ValueType_VALUE_TYPE_DOUBLE,
	"bool":      featurestorev1.ValueType_VALUE_TYPE_BOOL,
	"timestamp": featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP,
}

var aggregationNames = map[string]featurestorev1.AggregationFunction{
	"count":           featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT,
	"sum":             featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM,
	"avg":             featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG,
	"min":             featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MIN,
	"max":             featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MAX,
	"last":            featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_LAST,
	"distinct_count":  featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT,
	"days_since_last": featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST,
}

func valueType(n *yaml.Node, path string) (featurestorev1.ValueType, error) {
	s, err := str(n, path)
	if err != nil || s == "" {
		return 0, err
	}
	t, ok := typeNames[s]
	if !ok {
		return 0, &ParseError{Path: path, Line: n.Line, Msg: fmt.Sprintf("unknown type %q (want string, int64, double, bool or timestamp)", s)}
	}
	return t, nil
}

func aggregation(n *yaml.Node, path string) (featurestorev1.AggregationFunction, error) {
	s, err := str(n, path)
	if err != nil || s == "" {
		return 0, err
	}
	a, ok := aggregationNames[s]
	if !ok {
		return 0, &ParseError{Path: path, Line: n.Line, Msg: fmt.Sprintf("unknown aggregation %q (want count, sum, avg, min, max, last, distinct_count or days_since_last)", s)}
	}
	return a, nil
}

func duration(n *yaml.Node, path string) (*durationpb.Duration, error) {
	s, err := str(n, path)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return nil, &ParseError{Path: path, Line: n.Line, Msg: err.Error()}
	}
	return durationpb.New(d), nil
}

// ParseDuration reads a definition duration: "0", an integer with d (days)
// or w (weeks), or a Go duration ("90s", "15m", "24h", "1h30m").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		i, err := strconv.ParseInt(s[:n-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 90s, 15m, 24h, 7d, 2w)", s)
		}
		if i > int64(1<<63-1)/int64(unit) || i < -int64(1<<63-1)/int64(unit) {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return time.Duration(i) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 90s, 15m, 24h, 7d, 2w)", s)
	}
	return d, nil
}

// FormatDuration writes a duration as ParseDuration reads it, in the
// largest whole unit: "0", "7d", "36h", "15m", "90s", else Go's form.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
