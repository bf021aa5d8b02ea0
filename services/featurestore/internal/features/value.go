package features

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Value constructors; nil is the null value everywhere in this package.

// StringValue returns a string value.
func StringValue(s string) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: s}}
}

// Int64Value returns an int64 value.
func Int64Value(i int64) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: i}}
}

// DoubleValue returns a double value.
func DoubleValue(f float64) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: f}}
}

// BoolValue returns a bool value.
func BoolValue(b bool) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: b}}
}

// TimestampValue returns a timestamp value.
func TimestampValue(t time.Time) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

// timeLayouts are the accepted event-time and timestamp layouts, the same
// as ingestion's TIMESTAMP and DATE types.
var timeLayouts = []string{
	time.RFC3339Nano,                      // fraction optional when parsing
	"2006-01-02 15:04:05.999999999Z07:00", // space separator
	time.DateOnly,                         // midnight UTC
}

// ParseTime parses an event time or timestamp string: RFC 3339 with an
// optional fraction and "T" or a space as separator, or a date
// "2006-01-02" (midnight UTC).
func ParseTime(s string) (time.Time, bool) {
	if len(s) < len(time.DateOnly) || s[0] < '0' || s[0] > '9' {
		return time.Time{}, false // cheap rejection of non-times (expressions try often)
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Convert converts a decoded JSON value (as produced by encoding/json with
// UseNumber: nil, bool, json.Number, string, map, slice; float64 and int64
// are accepted too) to typ, returning nil (null) when it cannot. See the
// package documentation for the rules.
func Convert(raw any, typ featurestorev1.ValueType) *featurestorev1.Value {
	if raw == nil {
		return nil
	}
	switch typ {
	case featurestorev1.ValueType_VALUE_TYPE_STRING:
		if s, ok := stringForm(raw); ok {
			return StringValue(s)
		}
	case featurestorev1.ValueType_VALUE_TYPE_INT64:
		if i, ok := toInt64(raw); ok {
			return Int64Value(i)
		}
	case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
		if f, ok := toFloat(raw); ok {
			return DoubleValue(f)
		}
	case featurestorev1.ValueType_VALUE_TYPE_BOOL:
		switch v := raw.(type) {
		case bool:
			return BoolValue(v)
		case string:
			switch strings.ToLower(v) {
			case "true":
				return BoolValue(true)
			case "false":
				return BoolValue(false)
			}
		default:
			if i, ok := toInt64(v); ok && (i == 0 || i == 1) {
				return BoolValue(i == 1)
			}
		}
	case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
		if s, ok := raw.(string); ok {
			if t, ok := ParseTime(s); ok {
				return TimestampValue(t)
			}
		}
	}
	return nil
}

// stringForm is the string form of a scalar JSON value.
func stringForm(raw any) (string, bool) {
	switch v := raw.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

func toInt64(raw any) (int64, bool) {
	var s string
	switch v := raw.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = strings.TrimSpace(v)
	case int64:
		return v, true
	case float64:
		return floatToInt(v)
	default:
		return 0, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return floatToInt(f)
}

func floatToInt(f float64) (int64, bool) {
	// 2^63 is exactly representable; anything at or beyond it overflows.
	if f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) {
		return 0, false
	}
	return int64(f), true
}

func toFloat(raw any) (float64, bool) {
	var s string
	switch v := raw.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = strings.TrimSpace(v)
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case int64:
		return float64(v), true
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// ValueString is the canonical string form of a value: strings as is,
// int64 in decimal, doubles in the shortest 'g' form, booleans as
// true/false, timestamps in RFC 3339 (UTC, nanoseconds as needed). ok is
// false for null.
func ValueString(v *featurestorev1.Value) (string, bool) {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		return k.StringValue, true
	case *featurestorev1.Value_Int64Value:
		return strconv.FormatInt(k.Int64Value, 10), true
	case *featurestorev1.Value_DoubleValue:
		return strconv.FormatFloat(k.DoubleValue, 'g', -1, 64), true
	case *featurestorev1.Value_BoolValue:
		return strconv.FormatBool(k.BoolValue), true
	case *featurestorev1.Value_TimestampValue:
		return k.TimestampValue.AsTime().UTC().Format(time.RFC3339Nano), true
	}
	return "", false
}

// valueRaw turns a typed value back into the JSON-like form Convert takes,
// so a value can be re-typed (e.g. a request's join key given as a string
// for an int64 key).
func valueRaw(v *featurestorev1.Value) any {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		return k.StringValue
	case *featurestorev1.Value_Int64Value:
		return k.Int64Value
	case *featurestorev1.Value_DoubleValue:
		return k.DoubleValue
	case *featurestorev1.Value_BoolValue:
		return k.BoolValue
	case *featurestorev1.Value_TimestampValue:
		return k.TimestampValue.AsTime().UTC().Format(time.RFC3339Nano)
	}
	return nil
}
