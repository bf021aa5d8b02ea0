// Package trainingset writes the training sets that `factoryctl features
// historical` produces: the caller's entity rows (every input column, as
// the strings it read) followed by one column per requested feature, as
// CSV or Parquet.
//
// Nulls — a feature value that is null, not found or expired — are empty
// cells in CSV and nulls in Parquet. Input columns are written unchanged:
// an empty input cell stays an empty string.
package trainingset

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Format is a training-set file format.
type Format string

// The formats.
const (
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// FormatOf picks the format from a file name's extension: .csv or
// .parquet (.pq), case-insensitively.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".parquet", ".pq":
		return Parquet, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its extension: use .csv or .parquet", path)
}

// Column is a feature column.
type Column struct {
	Name string
	// Type is the type of the column's values; unspecified means string.
	Type featurestorev1.ValueType
}

// Writer writes the rows of a training set.
type Writer interface {
	// Write writes one row: one string per input column and one value per
	// feature column, nil for null.
	Write(input []string, features []*featurestorev1.Value) error
	// Close writes what is buffered and ends the file. It does not close
	// the io.Writer given to New.
	Close() error
}

// New returns a Writer of format f to w for the given input columns
// (strings) and feature columns.
func New(f Format, w io.Writer, input []string, features []Column) (Writer, error) {
	seen := make(map[string]bool, len(input)+len(features))
	for _, name := range input {
		if seen[name] {
			return nil, fmt.Errorf("column %q appears twice", name)
		}
		seen[name] = true
	}
	for _, c := range features {
		if seen[c.Name] {
			return nil, fmt.Errorf("feature column %q has the name of another column", c.Name)
		}
		seen[c.Name] = true
	}
	switch f {
	case CSV:
		return newCSV(w, input, features)
	case Parquet:
		return newParquet(w, input, features)
	}
	return nil, fmt.Errorf("unknown training-set format %q", f)
}

// Text formats a value the way a training set's CSV holds it: strings as
// they are, integers in decimal, doubles in the shortest decimal form that
// reads back exactly (no exponent), booleans as true/false, timestamps as
// RFC 3339 in UTC with as many fraction digits as needed. ok is false for
// null.
func Text(v *featurestorev1.Value) (s string, ok bool) {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		return k.StringValue, true
	case *featurestorev1.Value_Int64Value:
		return strconv.FormatInt(k.Int64Value, 10), true
	case *featurestorev1.Value_DoubleValue:
		return strconv.FormatFloat(k.DoubleValue, 'f', -1, 64), true
	case *featurestorev1.Value_BoolValue:
		return strconv.FormatBool(k.BoolValue), true
	case *featurestorev1.Value_TimestampValue:
		return k.TimestampValue.AsTime().UTC().Format(time.RFC3339Nano), true
	}
	return "", false
}
