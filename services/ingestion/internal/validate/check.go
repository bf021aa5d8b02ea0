package validate

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// kind is the JSON type of a scalar.
type kind uint8

const (
	kindString kind = iota
	kindNumber
	kindBool
)

var kindNames = [...]string{kindString: "a string", kindNumber: "a number", kindBool: "a boolean"}

// transient views bytes as a string without copying, for lookups and
// parsers that do not keep their input. Errors from those parsers are
// dropped, never returned, since they may hold the string.
func transient(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (st *state) typeErr(f *field, value []byte, got string) {
	st.violate("type", value, "expected "+f.typeName+", got "+got)
}

// scalar checks a string (text is its content), number or boolean (text is
// the raw JSON) against f.
func (st *state) scalar(f *field, k kind, text []byte) (v val) {
	v.text = text
	var num float64
	hasNum := false
	switch f.typ {
	case catalogv1.LogicalType_LOGICAL_TYPE_UNSPECIFIED:
	case catalogv1.LogicalType_LOGICAL_TYPE_STRING:
		if k != kindString {
			st.typeErr(f, text, kindNames[k])
			return
		}
		switch f.format {
		case formatUUID:
			if !isUUID(text) {
				st.violate("format", text, "expected a UUID such as 123e4567-e89b-12d3-a456-426614174000")
			}
		case formatEmail:
			if !isEmail(text) {
				st.violate("format", text, "expected an email address")
			}
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_INTEGER:
		if k != kindNumber {
			st.typeErr(f, text, kindNames[k])
			return
		}
		n, ok := parseInt(text)
		if !ok {
			st.typeErr(f, text, "a number that is not an integer within 64 bits")
			return
		}
		num, hasNum = n, true
	case catalogv1.LogicalType_LOGICAL_TYPE_NUMBER:
		if k != kindNumber {
			st.typeErr(f, text, kindNames[k])
			return
		}
		if f.hasMin || f.hasMax || len(f.quality) > 0 {
			num, _ = strconv.ParseFloat(transient(text), 64)
			hasNum = true
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN:
		if k != kindBool {
			st.typeErr(f, text, kindNames[k])
			return
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_DATE, catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP:
		if k != kindString {
			st.typeErr(f, text, kindNames[k])
			return
		}
		t, ok := parseTime(f.layouts, text)
		if !ok {
			what := "a timestamp"
			if f.typ == catalogv1.LogicalType_LOGICAL_TYPE_DATE {
				what = "a date"
			}
			st.violate("format", text, "expected "+what+" in the format "+f.layoutDesc)
			return
		}
		v.t, v.hasTime = t, true
	case catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:
		if k == kindBool {
			st.typeErr(f, text, kindNames[k])
			return
		}
		intDigits, fracDigits, ok := decimalDigits(text, k == kindString)
		if !ok {
			st.typeErr(f, text, "a string that is not a decimal number")
			return
		}
		switch {
		case f.precision > 0 && intDigits > f.precision-f.scale:
			st.violate("decimal", text, "at most "+strconv.Itoa(f.precision-f.scale)+" digits before the decimal point (decimal("+strconv.Itoa(f.precision)+","+strconv.Itoa(f.scale)+"))")
		case (f.precision > 0 || f.scale > 0) && fracDigits > f.scale:
			st.violate("decimal", text, "at most "+strconv.Itoa(f.scale)+" decimal places (decimal("+strconv.Itoa(f.precision)+","+strconv.Itoa(f.scale)+"))")
		}
		if f.hasMin || f.hasMax || len(f.quality) > 0 {
			num, _ = strconv.ParseFloat(transient(text), 64)
			hasNum = true
		}
	default: // ARRAY, OBJECT
		st.typeErr(f, text, kindNames[k])
		return
	}
	v.ok = true

	if k == kindString && (f.hasMinLen || f.hasMaxLen) {
		st.lengths(f, int64(utf8.RuneCount(text)), text, "characters")
	}
	if f.re != nil && k == kindString && !f.re.Match(text) {
		st.violate("pattern", text, "does not match "+f.pattern)
	}
	if f.enum != nil {
		if _, ok := f.enum[transient(text)]; !ok {
			st.violate("enum", text, "not one of "+f.enumDesc)
		}
	}
	if hasNum {
		if f.hasMin && num < f.min {
			st.violate("minimum", text, "less than the minimum "+strconv.FormatFloat(f.min, 'g', -1, 64))
		}
		if f.hasMax && num > f.max {
			st.violate("maximum", text, "greater than the maximum "+strconv.FormatFloat(f.max, 'g', -1, 64))
		}
	}
	for _, q := range f.quality {
		switch q.rule {
		case "accepted_values":
			if _, ok := q.values[transient(text)]; !ok {
				st.violate(q.rule, text, qualityLabel(q)+": not one of "+q.desc)
			}
		case "regex":
			if !q.re.Match(text) {
				st.violate(q.rule, text, qualityLabel(q)+": does not match "+q.desc)
			}
		case "range":
			if !hasNum {
				continue
			}
			if (q.hasMin && num < q.min) || (q.hasMax && num > q.max) {
				st.violate(q.rule, text, qualityLabel(q)+": outside "+describeRange(q))
			}
		}
	}
	return v
}

func describeRange(q *quality) string {
	lo, hi := "-inf", "+inf"
	if q.hasMin {
		lo = strconv.FormatFloat(q.min, 'g', -1, 64)
	}
	if q.hasMax {
		hi = strconv.FormatFloat(q.max, 'g', -1, 64)
	}
	return "[" + lo + ", " + hi + "]"
}

// lengths checks min_length/max_length against n (runes or elements).
func (st *state) lengths(f *field, n int64, value []byte, unit string) {
	if f.hasMinLen && n < f.minLen {
		st.violate("min_length", value, "fewer than "+strconv.FormatInt(f.minLen, 10)+" "+unit)
	}
	if f.hasMaxLen && n > f.maxLen {
		st.violate("max_length", value, "more than "+strconv.FormatInt(f.maxLen, 10)+" "+unit)
	}
}

// parseInt reads a JSON number with an integral value within int64.
func parseInt(b []byte) (float64, bool) {
	if bytes.IndexAny(b, ".eE") < 0 {
		n, err := strconv.ParseInt(transient(b), 10, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(transient(b), 64)
	// 2^63 itself is out of range; float64 cannot tell 2^63-1 from it.
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return f, true
}

// decimalDigits counts the integer digits and decimal places of a decimal
// (leading integer and trailing fractional zeros do not count). A JSON
// number may have an exponent; a string (text) may not but may have a "+".
func decimalDigits(b []byte, text bool) (intDigits, fracDigits int, ok bool) {
	i := 0
	if i < len(b) && (b[i] == '-' || (text && b[i] == '+')) {
		i++
	}
	is := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	ip := b[is:i]
	if len(ip) == 0 {
		return 0, 0, false
	}
	var fp []byte
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		fp = b[fs:i]
		if len(fp) == 0 {
			return 0, 0, false
		}
	}
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if text {
			return 0, 0, false
		}
		i++
		neg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			neg = b[i] == '-'
			i++
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if exp < 1_000_000 {
				exp = exp*10 + int(b[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	if i != len(b) {
		return 0, 0, false
	}
	// Digits ip+fp with the point after len(ip)+exp of them.
	lead := 0
	for lead < len(ip) && ip[lead] == '0' {
		lead++
	}
	if lead == len(ip) {
		for lead-len(ip) < len(fp) && fp[lead-len(ip)] == '0' {
			lead++
		}
	}
	n := len(ip) + len(fp)
	trail := 0
	for trail < n-lead {
		var c byte
		if j := n - 1 - trail; j >= len(ip) {
			c = fp[j-len(ip)]
		} else {
			c = ip[j]
		}
		if c != '0' {
			break
		}
		trail++
	}
	sig := n - lead - trail
	if sig == 0 {
		return 0, 0, true
	}
	point := len(ip) + exp - lead // digits of sig before the point
	return max(point, 0), max(sig-point, 0), true
}

func parseTime(layouts []string, b []byte) (time.Time, bool) {
	s := transient(b)
	for _, l := range layouts {
		if l == time3339 && len(s) > 10 && s[10] != 'T' {
			continue
		}
		if l == timeSpace && (len(s) <= 10 || s[10] != ' ') {
			continue
		}
		if l != time3339 && l != timeSpace {
			// A custom layout may keep parts of the input (zone names).
			s = string(b)
		}
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isEmail is a deliberately loose check: one "@" between a non-empty local
// part and a domain with a dot, no white space.
func isEmail(b []byte) bool {
	at := bytes.IndexByte(b, '@')
	if at <= 0 || bytes.IndexByte(b[at+1:], '@') >= 0 || bytes.ContainsAny(b, " \t\r\n") {
		return false
	}
	dom := b[at+1:]
	dot := bytes.LastIndexByte(dom, '.')
	return dot > 0 && dot < len(dom)-1
}

// coerceText converts a string value to f's type (Options.CoerceText).
func (st *state) coerceText(f *field, raw, content []byte) val {
	if len(content) == 0 {
		st.changed = true
		return val{absent: true, omitted: true}
	}
	switch f.typ {
	case catalogv1.LogicalType_LOGICAL_TYPE_INTEGER:
		t := bytes.TrimSpace(content)
		if len(t) > 1 && t[0] == '+' && t[1] != '-' {
			t = t[1:]
		}
		if len(t) > 0 && t[0] != '+' && bytes.IndexAny(t, ".eE_xXoObB") < 0 {
			if n, err := strconv.ParseInt(transient(t), 10, 64); err == nil {
				mark := len(st.out)
				st.out = strconv.AppendInt(st.out, n, 10)
				st.changed = true
				return st.scalar(f, kindNumber, st.out[mark:])
			}
		}
		st.emit(raw)
		st.violate("type", content, "expected an integer such as 42")
		return val{}
	case catalogv1.LogicalType_LOGICAL_TYPE_NUMBER:
		t := bytes.TrimSpace(content)
		if len(t) > 1 && t[0] == '+' && t[1] != '-' {
			t = t[1:]
		}
		if isJSONNumber(t) {
			mark := len(st.out)
			st.out = append(st.out, t...)
			st.changed = true
			return st.scalar(f, kindNumber, st.out[mark:])
		}
		st.emit(raw)
		st.violate("type", content, "expected a number such as 3.14")
		return val{}
	case catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN:
		var b string
		switch t := bytes.TrimSpace(content); {
		case bytes.EqualFold(t, []byte("true")), bytes.EqualFold(t, []byte("yes")), string(t) == "1":
			b = "true"
		case bytes.EqualFold(t, []byte("false")), bytes.EqualFold(t, []byte("no")), string(t) == "0":
			b = "false"
		default:
			st.emit(raw)
			st.violate("type", content, "expected a boolean: true/false, 1/0 or yes/no")
			return val{}
		}
		mark := len(st.out)
		st.out = append(st.out, b...)
		st.changed = true
		return st.scalar(f, kindBool, st.out[mark:])
	case catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:
		t := bytes.TrimSpace(content)
		if len(t) != len(content) {
			st.changed = true
			st.out = append(st.out, '"')
			st.out = append(st.out, t...)
			st.out = append(st.out, '"')
		} else {
			st.emit(raw)
		}
		return st.scalar(f, kindString, t)
	case catalogv1.LogicalType_LOGICAL_TYPE_OBJECT, catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
		return st.coerceJSON(f, raw, content)
	}
	st.emit(raw)
	return st.scalar(f, kindString, content)
}

// coerceJSON parses a cell holding JSON text as the OBJECT or ARRAY f.
func (st *state) coerceJSON(f *field, raw, content []byte) val {
	want := byte('{')
	if f.typ == catalogv1.LogicalType_LOGICAL_TYPE_ARRAY {
		want = '['
	}
	t := bytes.TrimSpace(content)
	if len(t) > 0 && t[0] == want {
		text := append([]byte(nil), t...) // content may live in scratch
		data, pos := st.data, st.pos
		vmark, omark := len(st.viols), len(st.out)
		st.data, st.pos = text, 0
		st.value(f)
		if st.err == nil && st.pos != len(st.data) {
			st.err = ErrMalformed
		}
		st.data, st.pos = data, pos
		if st.err == nil {
			st.changed = true
			return val{}
		}
		st.err = nil
		st.viols, st.order = st.viols[:vmark], st.order[:vmark]
		st.out = st.out[:omark]
	}
	st.emit(raw)
	st.violate("type", content, "expected "+f.typeName+" as JSON text")
	return val{}
}

// isJSONNumber reports whether b is exactly one JSON number.
func isJSONNumber(b []byte) bool {
	st := state{data: b}
	_, ok := st.number()
	return ok && st.pos == len(b)
}

// qualityLabel names a quality rule in a violation: by its name when it has
// one, else by its type.
func qualityLabel(q *quality) string {
	if q.name != "" {
		return "quality rule " + strconv.Quote(q.name)
	}
	return q.rule + " rule"
}
