package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Limits of entity rows.
const (
	// maxOnlineEntities is GetOnlineFeatures' limit.
	maxOnlineEntities = 1000
	// maxHistoricalRows is GetHistoricalFeatures' limit per request.
	maxHistoricalRows = 2_000_000
	// maxRowsPerMessage is GetHistoricalFeatures' limit per message.
	maxRowsPerMessage = 10_000
	// maxMessageBytes cuts a chunk before gRPC's default 4 MiB limit on
	// received messages.
	maxMessageBytes = 3 << 20
	// shownRowErrors is how many bad rows a usage error lists.
	shownRowErrors = 10
)

// timeLayouts are the accepted timestamps of entity rows and of --start
// and --end: the feature store's event-time layouts (RFC 3339 with an
// optional fraction and "T" or a space, or a date, midnight UTC) and, as
// pandas writes them, the same without a zone, taken as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	time.DateOnly,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// parseTime parses a timestamp in one of timeLayouts.
func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp: want RFC 3339 (2025-03-01T12:00:00Z) or a date (2025-03-01)", s)
}

// keyValue converts the text of a join key value to the value sent: an
// int64 for int64 keys, else the string as it is (the server converts it
// to the key's type).
func keyValue(s string, t featurestorev1.ValueType) (*featurestorev1.Value, error) {
	if t == featurestorev1.ValueType_VALUE_TYPE_INT64 {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: n}}, nil
	}
	return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: s}}, nil
}

// keyTypeNames maps the type suffixes of --entity key:type=value.
var keyTypeNames = map[string]featurestorev1.ValueType{
	"int":    featurestorev1.ValueType_VALUE_TYPE_INT64,
	"int64":  featurestorev1.ValueType_VALUE_TYPE_INT64,
	"string": featurestorev1.ValueType_VALUE_TYPE_STRING,
	"str":    featurestorev1.ValueType_VALUE_TYPE_STRING,
}

// parseEntityFlag parses one --entity value, "key=value[,key=value...]",
// each key optionally typed as key:int or key:string; an untyped key takes
// the type of the join key of that name (types), else string. It returns
// the row and its key names in order.
func parseEntityFlag(s string, types map[string]featurestorev1.ValueType) (*featurestorev1.EntityRow, []string, error) {
	row := &featurestorev1.EntityRow{JoinKeys: map[string]*featurestorev1.Value{}}
	var names []string
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, nil, usageErrorf("invalid --entity %q: want key=value[,key=value...], e.g. customer_id=c-42 or customer_id:int=42", s)
		}
		t := types[k]
		if name, typ, ok := strings.Cut(k, ":"); ok {
			tt, known := keyTypeNames[strings.ToLower(typ)]
			if !known {
				return nil, nil, usageErrorf("invalid --entity %q: unknown type %q of %s: allowed types are int, string", s, typ, name)
			}
			k, t = name, tt
		}
		if _, dup := row.JoinKeys[k]; dup {
			return nil, nil, usageErrorf("invalid --entity %q: %s appears twice", s, k)
		}
		val, err := keyValue(v, t)
		if err != nil {
			return nil, nil, usageErrorf("invalid --entity %q: %s: %v", s, k, err)
		}
		row.JoinKeys[k] = val
		names = append(names, k)
	}
	return row, names, nil
}

// rowErrors collects the bad rows of an entity file for one usage error.
type rowErrors struct {
	file  string
	msgs  []string
	total int
}

func (e *rowErrors) add(line int, format string, args ...any) {
	e.total++
	if len(e.msgs) < shownRowErrors {
		e.msgs = append(e.msgs, fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...)))
	}
}

func (e *rowErrors) err() error {
	if e.total == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s has %d bad row(s):\n  %s", e.file, e.total, strings.Join(e.msgs, "\n  "))
	if e.total > len(e.msgs) {
		msg += fmt.Sprintf("\n  … and %d more", e.total-len(e.msgs))
	}
	return usageErrorf("%s", msg)
}

// entityCSV reads entity rows from CSV: a header row, then one row per
// entity. Columns named like a join key hold its values, the timestamp
// column (historical only) the point in time; any other column is extra,
// passed through unchanged.
type entityCSV struct {
	name   string
	r      *csv.Reader
	header []string
	keys   []int // columns of join keys
	types  []featurestorev1.ValueType
	ts     int // timestamp column, -1 for none
}

// openEntityCSV reads the header of an entity file. keys are the join keys
// of the requested features; every one must be a column. tsColumn, when
// not empty, must be one too.
func openEntityCSV(r io.Reader, name string, keys []*featurestorev1.JoinKey, tsColumn string) (*entityCSV, error) {
	c := &entityCSV{name: name, r: csv.NewReader(r), ts: -1}
	header, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, usageErrorf("%s is empty: it needs a header row naming the join key columns", name)
	}
	if err != nil {
		return nil, c.csvError(err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a byte-order mark, as spreadsheets write
	}
	c.header = slices.Clone(header)
	col := map[string]int{}
	for i, h := range c.header {
		if _, dup := col[h]; dup {
			return nil, usageErrorf("%s: column %q appears twice in the header", name, h)
		}
		col[h] = i
	}
	var missing []string
	for _, k := range keys {
		i, ok := col[k.GetName()]
		if !ok {
			missing = append(missing, k.GetName())
			continue
		}
		c.keys = append(c.keys, i)
		c.types = append(c.types, k.GetType())
	}
	if len(missing) > 0 {
		return nil, usageErrorf("%s has no column for the join key(s) %s of the requested features (its columns: %s)", name, strings.Join(missing, ", "), strings.Join(c.header, ", "))
	}
	if tsColumn != "" {
		i, ok := col[tsColumn]
		if !ok {
			return nil, usageErrorf("%s has no timestamp column %q (its columns: %s): name it with --timestamp-column", name, tsColumn, strings.Join(c.header, ", "))
		}
		c.ts = i
	}
	return c, nil
}

func (c *entityCSV) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return usageErrorf("%s: line %d: %v", c.name, pe.StartLine, pe.Err)
	}
	return fmt.Errorf("read %s: %w", c.name, err)
}

// next reads the next record; io.EOF at the end. A malformed record (bad
// quoting, a different number of fields than the header) is a usage
// error.
func (c *entityCSV) next() (record []string, line int, err error) {
	record, err = c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		return nil, 0, c.csvError(err)
	}
	line, _ = c.r.FieldPos(0)
	return record, line, nil
}

// keysOf converts the join key values of a record, reporting a bad one to
// errs.
func (c *entityCSV) keysOf(record []string, line int, errs *rowErrors) map[string]*featurestorev1.Value {
	keys := make(map[string]*featurestorev1.Value, len(c.keys))
	for j, i := range c.keys {
		name, s := c.header[i], record[i]
		if s == "" {
			errs.add(line, "join key %s is empty", name)
			return nil
		}
		v, err := keyValue(s, c.types[j])
		if err != nil {
			errs.add(line, "join key %s: %v", name, err)
			return nil
		}
		keys[name] = v
	}
	return keys
}

// historicalRow converts a record to a row of GetHistoricalFeatures, or
// reports why it cannot to errs and returns nil.
func (c *entityCSV) historicalRow(record []string, line int, errs *rowErrors) *featurestorev1.HistoricalRow {
	keys := c.keysOf(record, line, errs)
	if keys == nil {
		return nil
	}
	s := record[c.ts]
	if s == "" {
		errs.add(line, "timestamp %s is empty", c.header[c.ts])
		return nil
	}
	t, err := parseTime(s)
	if err != nil {
		errs.add(line, "timestamp %s: %v", c.header[c.ts], err)
		return nil
	}
	return &featurestorev1.HistoricalRow{JoinKeys: keys, Timestamp: timestamppb.New(t)}
}

// keyNames lists the join key columns in the order of the header.
func (c *entityCSV) keyNames() []string {
	idx := slices.Clone(c.keys)
	slices.Sort(idx)
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = c.header[j]
	}
	return names
}

// readOnlineEntities reads at most maxOnlineEntities entity rows.
func readOnlineEntities(r io.Reader, name string, keys []*featurestorev1.JoinKey) ([]*featurestorev1.EntityRow, []string, error) {
	c, err := openEntityCSV(r, name, keys, "")
	if err != nil {
		return nil, nil, err
	}
	errs := &rowErrors{file: name}
	var rows []*featurestorev1.EntityRow
	for {
		record, line, err := c.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if len(rows) == maxOnlineEntities {
			return nil, nil, usageErrorf("%s has more than %d entity rows, the limit of one online read: split it, or use 'features historical'", name, maxOnlineEntities)
		}
		if keys := c.keysOf(record, line, errs); keys != nil {
			rows = append(rows, &featurestorev1.EntityRow{JoinKeys: keys})
		}
	}
	if err := errs.err(); err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, usageErrorf("%s has no entity rows", name)
	}
	return rows, c.keyNames(), nil
}
