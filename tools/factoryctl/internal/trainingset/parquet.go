package trainingset

import (
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// rowsPerRowGroup bounds the rows buffered in memory before a row group is
// written out.
const rowsPerRowGroup = 64 * 1024

// parquetWriter writes a Parquet file whose columns are all optional:
// input columns as strings, feature columns by their type (timestamps as
// int64 microseconds with the TIMESTAMP(MICROS, UTC) logical type), with
// Snappy compression.
type parquetWriter struct {
	w     *parquet.Writer
	types []featurestorev1.ValueType // per feature column
	names []string                   // per feature column
	nIn   int
	row   parquet.Row
}

func newParquet(w io.Writer, input []string, features []Column) (*parquetWriter, error) {
	g := &orderedGroup{Group: parquet.Group{}}
	for _, name := range input {
		g.add(name, parquet.Optional(parquet.String()))
	}
	pw := &parquetWriter{nIn: len(input)}
	for _, c := range features {
		t := c.Type
		if t == featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED {
			t = featurestorev1.ValueType_VALUE_TYPE_STRING
		}
		node, err := parquetNode(t)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		g.add(c.Name, parquet.Optional(node))
		pw.types = append(pw.types, t)
		pw.names = append(pw.names, c.Name)
	}
	schema := parquet.NewSchema("training_set", g)
	pw.w = parquet.NewWriter(w, schema,
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(rowsPerRowGroup),
		parquet.CreatedBy("factoryctl", "", ""),
	)
	pw.row = make(parquet.Row, 0, len(input)+len(features))
	return pw, nil
}

func parquetNode(t featurestorev1.ValueType) (parquet.Node, error) {
	switch t {
	case featurestorev1.ValueType_VALUE_TYPE_STRING:
		return parquet.String(), nil
	case featurestorev1.ValueType_VALUE_TYPE_INT64:
		return parquet.Int(64), nil
	case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
		return parquet.Leaf(parquet.DoubleType), nil
	case featurestorev1.ValueType_VALUE_TYPE_BOOL:
		return parquet.Leaf(parquet.BooleanType), nil
	case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
		return parquet.Timestamp(parquet.Microsecond), nil
	}
	return nil, fmt.Errorf("unsupported value type %s", t)
}

func (pw *parquetWriter) Write(input []string, features []*featurestorev1.Value) error {
	if len(input) != pw.nIn || len(features) != len(pw.types) {
		return fmt.Errorf("row has %d input and %d feature values; the file has %d and %d columns", len(input), len(features), pw.nIn, len(pw.types))
	}
	row := pw.row[:0]
	col := 0
	for _, s := range input {
		row = append(row, parquet.ByteArrayValue([]byte(s)).Level(0, 1, col))
		col++
	}
	for i, v := range features {
		pv, err := toParquet(v, pw.types[i])
		if err != nil {
			return fmt.Errorf("column %q: %w", pw.names[i], err)
		}
		if pv.IsNull() {
			row = append(row, pv.Level(0, 0, col))
		} else {
			row = append(row, pv.Level(0, 1, col))
		}
		col++
	}
	pw.row = row
	_, err := pw.w.WriteRows([]parquet.Row{row})
	return err
}

func (pw *parquetWriter) Close() error { return pw.w.Close() }

// toParquet converts v to a value of a column of type t. A value of
// another type is converted when that loses nothing (int64 into double, an
// integral double into int64, anything into string); otherwise it is an
// error rather than a silently wrong cell.
func toParquet(v *featurestorev1.Value, t featurestorev1.ValueType) (parquet.Value, error) {
	if v.GetKind() == nil {
		return parquet.NullValue(), nil
	}
	switch t {
	case featurestorev1.ValueType_VALUE_TYPE_STRING:
		s, _ := Text(v)
		return parquet.ByteArrayValue([]byte(s)), nil
	case featurestorev1.ValueType_VALUE_TYPE_INT64:
		switch k := v.GetKind().(type) {
		case *featurestorev1.Value_Int64Value:
			return parquet.Int64Value(k.Int64Value), nil
		case *featurestorev1.Value_DoubleValue:
			if f := k.DoubleValue; f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return parquet.Int64Value(int64(f)), nil
			}
		}
	case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
		switch k := v.GetKind().(type) {
		case *featurestorev1.Value_DoubleValue:
			return parquet.DoubleValue(k.DoubleValue), nil
		case *featurestorev1.Value_Int64Value:
			return parquet.DoubleValue(float64(k.Int64Value)), nil
		}
	case featurestorev1.ValueType_VALUE_TYPE_BOOL:
		if k, ok := v.GetKind().(*featurestorev1.Value_BoolValue); ok {
			return parquet.BooleanValue(k.BoolValue), nil
		}
	case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
		if k, ok := v.GetKind().(*featurestorev1.Value_TimestampValue); ok {
			return parquet.Int64Value(k.TimestampValue.AsTime().UnixMicro()), nil
		}
	}
	s, _ := Text(v)
	return parquet.Value{}, fmt.Errorf("cannot store %s in a %s column", strconv.Quote(s), typeName(t))
}

func typeName(t featurestorev1.ValueType) string {
	switch t {
	case featurestorev1.ValueType_VALUE_TYPE_STRING:
		return "string"
	case featurestorev1.ValueType_VALUE_TYPE_INT64:
		return "int64"
	case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
		return "double"
	case featurestorev1.ValueType_VALUE_TYPE_BOOL:
		return "bool"
	case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
		return "timestamp"
	}
	return t.String()
}

// orderedGroup is a parquet group whose columns keep the order they were
// added in: parquet.Group, a map, sorts them by name, which would move the
// feature columns among the input columns.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g *orderedGroup) add(name string, n parquet.Node) {
	g.Group[name] = n
	g.fields = append(g.fields, &groupField{Node: n, name: name})
}

// Fields returns the columns in the order they were added.
func (g *orderedGroup) Fields() []parquet.Field { return g.fields }

// groupField names a node within an orderedGroup. Rows are written as
// parquet.Row values, so the reflection accessor is never used.
type groupField struct {
	parquet.Node
	name string
}

func (f *groupField) Name() string { return f.name }

func (f *groupField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}
