package validate

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

// Default limits of Options.
const (
	DefaultMaxFields = 1000
	DefaultMaxDepth  = 16
)

// MaxValueBytes is the length at which violation values are cut.
const MaxValueBytes = 256

// ErrMalformed is wrapped by Result.Err when a record is not a well-formed
// JSON object within the limits.
var ErrMalformed = errors.New("malformed record")

// Options tune one Validate call.
type Options struct {
	// CoerceText turns string values into the contract's types (values
	// read from CSV); see the package comment.
	CoerceText bool
	// EventTimeField names a top-level DATE or TIMESTAMP field whose value
	// becomes Result.EventTime.
	EventTimeField string
	// AllowUnknown accepts keys the contract does not declare instead of
	// reporting unknown_field; they are kept in the record.
	AllowUnknown bool
	// MaxFields limits the number of keys of a record, nested ones
	// included; 0 means DefaultMaxFields.
	MaxFields int
	// MaxDepth limits the nesting of objects and arrays (the record itself
	// is depth 1); 0 means DefaultMaxDepth.
	MaxDepth int
}

// Result is the outcome of validating one record.
type Result struct {
	// Record is the record to store: the input itself when nothing was
	// coerced, else compact JSON with the coerced values. Nil when Err is set.
	Record []byte
	// PrimaryKey holds the primary-key values in key order, as text.
	PrimaryKey []string
	// EventTime is the value of Options.EventTimeField; zero when absent.
	EventTime time.Time
	// Violations lists every way the record breaks the contract, in schema
	// order; empty when it is valid.
	Violations []*ingestionv1.RecordViolation
	// Err is set when the record is malformed (it wraps ErrMalformed) or
	// Options.EventTimeField is not a date or timestamp field.
	Err error
}

// Valid reports whether the record is well formed and breaks no rule.
func (r *Result) Valid() bool { return r.Err == nil && len(r.Violations) == 0 }

// state is the per-call scratch space, pooled so a warm Validate allocates
// only what it returns.
type state struct {
	s         *Schema
	data      []byte
	pos       int
	depth     int
	keys      int
	maxKeys   int
	maxDepth  int
	coerce    bool
	allowUnk  bool
	changed   bool
	eventIdx  int
	eventTime time.Time
	err       error

	out     []byte // canonical output when coercing
	path    []byte
	scratch []byte // unescaped string content
	seen    []uint64
	viols   []*ingestionv1.RecordViolation
	order   []int  // sort key per violation, parallel to viols
	pkBuf   []byte // primary-key values in record order
	pkStart []int  // per key field: its value in pkBuf; -1 when missing
	pkEnd   []int
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// Validate checks one record; see the package comment for the rules.
func (s *Schema) Validate(raw []byte, opts Options) Result {
	st := statePool.Get().(*state)
	defer statePool.Put(st)
	*st = state{
		s: s, data: raw, maxKeys: opts.MaxFields, maxDepth: opts.MaxDepth,
		coerce: opts.CoerceText, allowUnk: opts.AllowUnknown, eventIdx: -1,
		out: st.out[:0], path: st.path[:0], scratch: st.scratch[:0], seen: st.seen[:0],
		viols: st.viols[:0], order: st.order[:0], pkBuf: st.pkBuf[:0], pkStart: st.pkStart[:0], pkEnd: st.pkEnd[:0],
	}
	defer func() {
		clear(st.viols)
		st.data, st.s = nil, nil
	}()
	if st.maxKeys <= 0 {
		st.maxKeys = DefaultMaxFields
	}
	if st.maxDepth <= 0 {
		st.maxDepth = DefaultMaxDepth
	}
	if opts.EventTimeField != "" {
		i, err := s.eventField(opts.EventTimeField)
		if err != nil {
			return Result{Err: err}
		}
		st.eventIdx = i
	}
	for range s.pk {
		st.pkStart = append(st.pkStart, -1)
		st.pkEnd = append(st.pkEnd, -1)
	}

	st.ws()
	if st.pos >= len(st.data) || st.data[st.pos] != '{' {
		if st.pos >= len(st.data) {
			return Result{Err: fmt.Errorf("%w: empty input", ErrMalformed)}
		}
		return Result{Err: fmt.Errorf("%w: not a JSON object", ErrMalformed)}
	}
	st.object(s.root)
	if st.err == nil {
		st.ws()
		if st.pos < len(st.data) {
			st.fail("data after the JSON object")
		}
	}
	if st.err != nil {
		return Result{Err: st.err}
	}

	res := Result{Record: raw, EventTime: st.eventTime}
	if st.coerce && st.changed {
		res.Record = append([]byte(nil), st.out...)
	}
	if len(st.viols) > 0 {
		res.Violations = append([]*ingestionv1.RecordViolation(nil), st.viols...)
	}
	if len(s.pk) > 0 {
		// One string for all values, sliced per key, in key order.
		n := len(st.pkBuf)
		ordered := st.pkBuf
		for i, start := range st.pkStart {
			if start >= 0 {
				ordered = append(ordered, st.pkBuf[start:st.pkEnd[i]]...)
			}
		}
		st.pkBuf = ordered
		all := string(ordered[n:])
		res.PrimaryKey = make([]string, len(s.pk))
		off := 0
		for i, start := range st.pkStart {
			if start >= 0 {
				l := st.pkEnd[i] - start
				res.PrimaryKey[i] = all[off : off+l]
				off += l
			}
		}
	}
	return res
}

// fail records the first malformation; scanning stops.
func (st *state) fail(msg string) {
	if st.err == nil {
		st.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, msg, st.pos)
	}
}

func (st *state) emit(b []byte) {
	if st.coerce {
		st.out = append(st.out, b...)
	}
}

func (st *state) emitByte(c byte) {
	if st.coerce {
		st.out = append(st.out, c)
	}
}

// violate records a violation of the value at the current path.
func (st *state) violate(rule string, value []byte, desc string) {
	st.viols = append(st.viols, &ingestionv1.RecordViolation{
		Field:       string(st.path),
		Rule:        rule,
		Value:       truncate(value),
		Description: desc,
	})
	st.order = append(st.order, 0)
}

// truncate cuts a value to MaxValueBytes on a rune boundary.
func truncate(b []byte) string {
	if len(b) <= MaxValueBytes {
		return string(b)
	}
	n := MaxValueBytes
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n])
}

func (st *state) enter() bool {
	st.depth++
	if st.depth > st.maxDepth {
		st.depth--
		st.fail("nested deeper than " + strconv.Itoa(st.maxDepth) + " levels")
		return false
	}
	return true
}

// object scans an object at st.pos ('{') against obj (nil: any members).
func (st *state) object(obj *object) {
	if !st.enter() {
		return
	}
	defer func() { st.depth-- }()
	st.pos++
	st.emitByte('{')

	nf := 0
	if obj != nil {
		nf = len(obj.fields)
	}
	words := (nf + 63) / 64
	base := len(st.seen)
	for range 2 * words {
		st.seen = append(st.seen, 0)
	}
	present := st.seen[base : base+words]
	nonNull := st.seen[base+words : base+2*words]
	defer func() { st.seen = st.seen[:base] }()

	vbase := len(st.viols)
	sorted := true
	last := -1
	unknown := 0
	hint := 0
	first := true

	st.ws()
	if st.pos < len(st.data) && st.data[st.pos] == '}' {
		st.pos++
	} else {
		for st.err == nil {
			st.ws()
			if st.pos >= len(st.data) || st.data[st.pos] != '"' {
				st.fail("expected a string key")
				return
			}
			keyRaw, key, ok := st.str()
			if !ok {
				return
			}
			st.keys++
			if st.keys > st.maxKeys {
				st.fail("more than " + strconv.Itoa(st.maxKeys) + " keys")
				return
			}
			st.ws()
			if st.pos >= len(st.data) || st.data[st.pos] != ':' {
				st.fail("expected ':' after a key")
				return
			}
			st.pos++

			idx := -1
			if obj != nil {
				if hint < nf && obj.fields[hint].name == string(key) {
					idx = hint
				} else if i, ok := obj.index[string(key)]; ok {
					idx = i
				}
			}
			plen := len(st.path)
			st.pushKey(key)
			mark := len(st.out)
			if st.coerce {
				if !first {
					st.out = append(st.out, ',')
				}
				st.out = append(st.out, keyRaw...)
				st.out = append(st.out, ':')
			}
			vmark := len(st.viols)
			var ord int
			if idx >= 0 {
				hint = idx + 1
				ord = idx
				w, bit := idx/64, uint64(1)<<(idx%64)
				if present[w]&bit != 0 {
					st.fail("duplicate key " + strconv.Quote(string(key)))
					return
				}
				present[w] |= bit
				f := obj.fields[idx]
				v := st.value(f)
				if !v.absent {
					nonNull[w] |= bit
					if st.depth == 1 {
						st.topLevel(idx, v)
					}
				}
				if v.omitted {
					st.out = st.out[:mark]
				} else {
					first = false
				}
			} else {
				ord = nf + unknown
				unknown++
				start := st.pos
				st.value(nil)
				if obj != nil && !st.allowUnk && st.err == nil {
					st.ws()
					st.violate("unknown_field", trimWS(st.data[start:st.pos]), "the contract does not declare this field")
				}
				first = false
			}
			if len(st.viols) > vmark {
				for j := vmark; j < len(st.viols); j++ {
					st.order[j] = ord
				}
				if ord < last {
					sorted = false
				}
				last = ord
			}
			st.path = st.path[:plen]

			st.ws()
			if st.pos >= len(st.data) {
				st.fail("unterminated object")
				return
			}
			if c := st.data[st.pos]; c == ',' {
				st.pos++
				continue
			} else if c == '}' {
				st.pos++
				break
			}
			st.fail("expected ',' or '}' in an object")
			return
		}
		if st.err != nil {
			return
		}
	}
	st.emitByte('}')

	for i := 0; i < nf; i++ {
		if nonNull[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		f := obj.fields[i]
		var rule, desc string
		switch {
		case st.depth == 1 && st.s.pkPos[i] > 0:
			rule, desc = "primary_key", "primary-key field is missing or null"
		case f.required:
			rule, desc = "required", "required field is missing or null"
		case f.notNull != nil:
			rule, desc = "not_null", "quality rule "+strconv.Quote(f.notNull.name)+": must not be null"
		default:
			continue
		}
		plen := len(st.path)
		if plen > 0 {
			st.path = append(st.path, '.')
		}
		st.path = append(st.path, f.name...)
		st.violate(rule, nil, desc)
		st.order[len(st.order)-1] = i
		st.path = st.path[:plen]
		if i < last {
			sorted = false
		}
		last = i
	}
	if !sorted {
		sortViolations(st.viols[vbase:], st.order[vbase:])
	}
}

// pushKey appends a key to the path: ".key", or `["key"]` when the key is
// empty or holds characters that would make the path ambiguous.
func (st *state) pushKey(key []byte) {
	plain := len(key) > 0
	for _, c := range key {
		if c == '.' || c == '[' || c == ']' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if !plain {
		st.path = append(st.path, '[')
		st.path = strconv.AppendQuote(st.path, string(key))
		st.path = append(st.path, ']')
		return
	}
	if len(st.path) > 0 {
		st.path = append(st.path, '.')
	}
	st.path = append(st.path, key...)
}

// sortViolations is a stable insertion sort by order; violations are few.
func sortViolations(v []*ingestionv1.RecordViolation, order []int) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && order[j] < order[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// topLevel records the primary key and event time from a valid top-level value.
func (st *state) topLevel(idx int, v val) {
	if !v.ok {
		return
	}
	if k := st.s.pkPos[idx]; k > 0 {
		st.pkStart[k-1] = len(st.pkBuf)
		st.pkBuf = append(st.pkBuf, v.text...)
		st.pkEnd[k-1] = len(st.pkBuf)
	}
	if idx == st.eventIdx && v.hasTime {
		st.eventTime = v.t
	}
}

// val describes a scanned value.
type val struct {
	absent  bool   // null, or "" under coercion
	omitted bool   // "" under coercion: the key is dropped from the output
	ok      bool   // a scalar that passed its type check
	text    []byte // text form of a scalar (valid until the next scan)
	t       time.Time
	hasTime bool
}

// value scans one value against f (nil: anything, unchecked).
func (st *state) value(f *field) (v val) {
	st.ws()
	if st.pos >= len(st.data) {
		st.fail("unexpected end of input")
		return
	}
	start := st.pos
	switch c := st.data[st.pos]; {
	case c == '{':
		switch {
		case f == nil || f.typ == catalogv1.LogicalType_LOGICAL_TYPE_UNSPECIFIED:
			st.object(nil)
		case f.typ == catalogv1.LogicalType_LOGICAL_TYPE_OBJECT:
			st.object(f.props)
		default:
			st.object(nil)
			if st.err == nil {
				st.typeErr(f, st.data[start:st.pos], "an object")
			}
		}
	case c == '[':
		switch {
		case f == nil || f.typ == catalogv1.LogicalType_LOGICAL_TYPE_UNSPECIFIED:
			st.array(nil)
		case f.typ == catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
			n := st.array(f)
			if st.err == nil {
				st.lengths(f, int64(n), st.data[start:st.pos], "elements")
			}
		default:
			st.array(nil)
			if st.err == nil {
				st.typeErr(f, st.data[start:st.pos], "an array")
			}
		}
	case c == '"':
		raw, content, ok := st.str()
		if !ok {
			return
		}
		if f == nil {
			st.emit(raw)
			return
		}
		if st.coerce {
			return st.coerceText(f, raw, content)
		}
		st.emit(raw)
		return st.scalar(f, kindString, content)
	case c == 'n':
		if !st.literal("null") {
			return
		}
		st.emit(st.data[start:st.pos])
		v.absent = true
	case c == 't' || c == 'f':
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		if !st.literal(lit) {
			return
		}
		raw := st.data[start:st.pos]
		st.emit(raw)
		if f != nil {
			return st.scalar(f, kindBool, raw)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		raw, ok := st.number()
		if !ok {
			return
		}
		st.emit(raw)
		if f != nil {
			return st.scalar(f, kindNumber, raw)
		}
	default:
		st.fail("unexpected character " + strconv.QuoteRune(rune(c)))
	}
	return v
}

// array scans an array at st.pos ('[') whose elements follow f.items (f nil
// or without items: anything) and returns its length.
func (st *state) array(f *field) int {
	if !st.enter() {
		return 0
	}
	defer func() { st.depth-- }()
	st.pos++
	st.emitByte('[')
	var items *field
	if f != nil {
		items = f.items
	}
	n := 0
	st.ws()
	if st.pos < len(st.data) && st.data[st.pos] == ']' {
		st.pos++
		st.emitByte(']')
		return 0
	}
	for st.err == nil {
		if n > 0 {
			st.emitByte(',')
		}
		plen := len(st.path)
		if f != nil {
			st.path = append(st.path, '[')
			st.path = strconv.AppendInt(st.path, int64(n), 10)
			st.path = append(st.path, ']')
		}
		mark := len(st.out)
		v := st.value(items)
		if v.omitted {
			st.out = append(st.out[:mark], "null"...)
		}
		if v.absent && items != nil && st.err == nil {
			st.violate("type", []byte("null"), "expected "+items.typeName+", got null")
		}
		st.path = st.path[:plen]
		n++
		st.ws()
		if st.pos >= len(st.data) {
			st.fail("unterminated array")
			return n
		}
		if c := st.data[st.pos]; c == ',' {
			st.pos++
			continue
		} else if c == ']' {
			st.pos++
			st.emitByte(']')
			return n
		}
		st.fail("expected ',' or ']' in an array")
	}
	return n
}

func (st *state) ws() {
	for st.pos < len(st.data) {
		switch st.data[st.pos] {
		case ' ', '\t', '\n', '\r':
			st.pos++
		default:
			return
		}
	}
}

func trimWS(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\n', '\r':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

func (st *state) literal(lit string) bool {
	if len(st.data)-st.pos >= len(lit) && string(st.data[st.pos:st.pos+len(lit)]) == lit {
		st.pos += len(lit)
		return true
	}
	st.fail("invalid literal")
	return false
}

// number scans a JSON number (RFC 8259 grammar).
func (st *state) number() ([]byte, bool) {
	d, i := st.data, st.pos
	start := i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		return st.badNumber(i)
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			return st.badNumber(j)
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			return st.badNumber(j)
		}
		i = j
	}
	st.pos = i
	return d[start:i], true
}

// skipDigits returns the index of the first non-digit at or after i.
func skipDigits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// badNumber fails the scan at offset at, where a number's digit was due.
func (st *state) badNumber(at int) ([]byte, bool) {
	st.pos = at
	st.fail("invalid number")
	return nil, false
}

// str scans a string at st.pos ('"'). raw includes the quotes; content is
// the unescaped text, either a slice of the input or of st.scratch (valid
// until the next str call).
func (st *state) str() (raw, content []byte, ok bool) {
	d := st.data
	start := st.pos
	i := start + 1
	for i < len(d) {
		c := d[i]
		if c == '"' {
			st.pos = i + 1
			return d[start : i+1], d[start+1 : i], true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	var buf []byte // non-nil once an escape was seen
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			st.pos = i + 1
			if buf == nil {
				return d[start : i+1], d[start+1 : i], true
			}
			st.scratch = buf
			return d[start : i+1], buf, true
		case c == '\\':
			if buf == nil {
				buf = append(st.scratch[:0], d[start+1:i]...)
			}
			if i+1 >= len(d) {
				st.pos = i
				st.fail("unterminated string")
				return nil, nil, false
			}
			e := d[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(d, i)
				if !ok {
					st.pos = i
					st.fail("invalid \\u escape")
					return nil, nil, false
				}
				i += 4
				if r >= 0xD800 && r < 0xDC00 {
					// A high surrogate pairs with a following low one.
					if i+6 <= len(d) && d[i] == '\\' && d[i+1] == 'u' {
						if r2, ok := hex4(d, i+2); ok && r2 >= 0xDC00 && r2 < 0xE000 {
							r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
							i += 6
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				} else if r >= 0xDC00 && r < 0xE000 {
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				st.pos = i - 1
				st.fail("invalid escape in string")
				return nil, nil, false
			}
		case c < 0x20:
			st.pos = i
			st.fail("control character in string")
			return nil, nil, false
		case c < utf8.RuneSelf:
			if buf != nil {
				buf = append(buf, c)
			}
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				st.pos = i
				st.fail("invalid UTF-8")
				return nil, nil, false
			}
			if buf != nil {
				buf = append(buf, d[i:i+size]...)
			}
			i += size
		}
	}
	st.pos = i
	st.fail("unterminated string")
	return nil, nil, false
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
