package features

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxExprLen bounds the length of an expression.
const MaxExprLen = 1024

// Op is a comparison operator.
type Op uint8

// The comparison operators.
const (
	OpGT Op = iota + 1 // >
	OpGE               // >=
	OpLT               // <
	OpLE               // <=
	OpEQ               // ==
	OpNE               // !=
)

var opText = [...]string{OpGT: ">", OpGE: ">=", OpLT: "<", OpLE: "<=", OpEQ: "==", OpNE: "!="}

func (o Op) String() string {
	if int(o) < len(opText) && o != 0 {
		return opText[o]
	}
	return "?"
}

// Expr is a parsed expression "<operand> <op> <operand>"; see the package
// documentation for the grammar and semantics.
type Expr struct {
	Left, Right Operand
	Op          Op
}

// OperandKind says what an operand is.
type OperandKind uint8

// Operand kinds.
const (
	OperandField OperandKind = iota + 1
	OperandNumber
	OperandString
	OperandBool
)

// Operand is one side of an expression.
type Operand struct {
	Kind OperandKind
	// Field is the dotted field path (OperandField), split in Path.
	Field string
	Path  []string
	Num   float64 // OperandNumber
	Str   string  // OperandString
	Bool  bool    // OperandBool
	// text is the literal as written, for String.
	text string
	// pre-classified literal, computed once at parse time
	lit scalar
}

// ExprError is a syntax error in an expression, with the byte offset.
type ExprError struct {
	Offset int
	Msg    string
}

func (e *ExprError) Error() string {
	return fmt.Sprintf("expression: %s at offset %d", e.Msg, e.Offset)
}

// ParseExpr parses an expression. Errors are *ExprError.
func ParseExpr(s string) (*Expr, error) {
	if len(s) > MaxExprLen {
		return nil, &ExprError{Offset: MaxExprLen, Msg: fmt.Sprintf("longer than %d bytes", MaxExprLen)}
	}
	p := exprParser{s: s}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, err := p.op()
	if err != nil {
		return nil, err
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, &ExprError{Offset: p.i, Msg: fmt.Sprintf("unexpected %q after the comparison", p.s[p.i:])}
	}
	if left.Kind != OperandField && right.Kind != OperandField {
		return nil, &ExprError{Offset: 0, Msg: "at least one operand must be a field"}
	}
	return &Expr{Left: left, Op: op, Right: right}, nil
}

// String formats the expression canonically.
func (e *Expr) String() string {
	return e.Left.text + " " + e.Op.String() + " " + e.Right.text
}

// Fields returns the field paths the expression reads.
func (e *Expr) Fields() []string {
	var out []string
	for _, o := range []Operand{e.Left, e.Right} {
		if o.Kind == OperandField {
			out = append(out, o.Field)
		}
	}
	return out
}

type exprParser struct {
	s string
	i int
}

func (p *exprParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *exprParser) op() (Op, error) {
	p.space()
	rest := p.s[p.i:]
	for _, c := range []struct {
		text string
		op   Op
	}{{">=", OpGE}, {"<=", OpLE}, {"==", OpEQ}, {"!=", OpNE}, {">", OpGT}, {"<", OpLT}} {
		if strings.HasPrefix(rest, c.text) {
			p.i += len(c.text)
			return c.op, nil
		}
	}
	if rest == "" {
		return 0, &ExprError{Offset: p.i, Msg: "missing operator (one of > >= < <= == !=)"}
	}
	return 0, &ExprError{Offset: p.i, Msg: "expected an operator (one of > >= < <= == !=)"}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func (p *exprParser) operand() (Operand, error) {
	p.space()
	start := p.i
	if p.i >= len(p.s) {
		return Operand{}, &ExprError{Offset: p.i, Msg: "missing operand"}
	}
	c := p.s[p.i]
	switch {
	case c == '"':
		// Go/JSON style double-quoted string: find the closing quote.
		j := p.i + 1
		for j < len(p.s) && p.s[j] != '"' {
			if p.s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(p.s) {
			return Operand{}, &ExprError{Offset: start, Msg: "unterminated string"}
		}
		text := p.s[p.i : j+1]
		str, err := strconv.Unquote(text)
		if err != nil {
			return Operand{}, &ExprError{Offset: start, Msg: "invalid string " + text}
		}
		p.i = j + 1
		return stringOperand(str, text), nil
	case c == '\'':
		j := strings.IndexByte(p.s[p.i+1:], '\'')
		if j < 0 {
			return Operand{}, &ExprError{Offset: start, Msg: "unterminated string"}
		}
		str := p.s[p.i+1 : p.i+1+j]
		p.i += j + 2
		return stringOperand(str, strconv.Quote(str)), nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		j := p.i
		for j < len(p.s) {
			d := p.s[j]
			if (d >= '0' && d <= '9') || d == '.' || d == 'e' || d == 'E' || d == '_' ||
				((d == '-' || d == '+') && (j == p.i || p.s[j-1] == 'e' || p.s[j-1] == 'E')) {
				j++
				continue
			}
			break
		}
		text := p.s[p.i:j]
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.Contains(text, "_") {
			return Operand{}, &ExprError{Offset: start, Msg: "invalid number " + strconv.Quote(text)}
		}
		p.i = j
		lit := scalar{kind: scNum, num: f}
		lit.i, lit.isInt = parseIntExact(text)
		return Operand{Kind: OperandNumber, Num: f, text: text, lit: lit}, nil
	case isIdentStart(c):
		var segs []string
		for {
			j := p.i
			for j < len(p.s) && isIdentChar(p.s[j]) {
				j++
			}
			if j == p.i {
				return Operand{}, &ExprError{Offset: p.i, Msg: "empty field path segment"}
			}
			segs = append(segs, p.s[p.i:j])
			p.i = j
			if p.i < len(p.s) && p.s[p.i] == '.' {
				p.i++
				continue
			}
			break
		}
		text := p.s[start:p.i]
		switch text {
		case "true", "false":
			b := text == "true"
			return Operand{Kind: OperandBool, Bool: b, text: text, lit: scalar{kind: scBool, b: b}}, nil
		}
		return Operand{Kind: OperandField, Field: text, Path: segs, text: text}, nil
	}
	return Operand{}, &ExprError{Offset: start, Msg: fmt.Sprintf("unexpected %q", string(c))}
}

func stringOperand(s, text string) Operand {
	return Operand{Kind: OperandString, Str: s, text: text, lit: classifyString(s)}
}

// scalar is an operand value classified for comparison.
type scalar struct {
	kind  scalarKind
	num   float64
	i     int64
	isInt bool
	str   string
	t     time.Time
	b     bool
	// for strings: whether they also read as a number / a time
	hasNum, hasTime bool
}

type scalarKind uint8

const (
	scNull scalarKind = iota
	scNum
	scString
	scBool
	scOther // objects, arrays: incomparable
)

func classifyString(s string) scalar {
	sc := scalar{kind: scString, str: s}
	if t, ok := ParseTime(s); ok {
		sc.t, sc.hasTime = t, true
	}
	if f, ok := toFloat(s); ok {
		sc.num, sc.hasNum = f, true
		sc.i, sc.isInt = parseIntExact(strings.TrimSpace(s))
	}
	return sc
}

func parseIntExact(s string) (int64, bool) {
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

func classify(raw any) scalar {
	switch v := raw.(type) {
	case nil:
		return scalar{}
	case bool:
		return scalar{kind: scBool, b: v}
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return scalar{kind: scOther}
		}
		sc := scalar{kind: scNum, num: f}
		sc.i, sc.isInt = parseIntExact(string(v))
		return sc
	case float64:
		return scalar{kind: scNum, num: v}
	case int64:
		return scalar{kind: scNum, num: float64(v), i: v, isInt: true}
	case string:
		return classifyString(v)
	}
	return scalar{kind: scOther}
}

// compare returns -1, 0 or +1, or ok=false when a and b are incomparable.
func compare(a, b scalar) (int, bool) {
	switch {
	case a.kind == scNull || b.kind == scNull || a.kind == scOther || b.kind == scOther:
		return 0, false
	case a.kind == scBool || b.kind == scBool:
		if a.kind != b.kind {
			return 0, false
		}
		return cmpBool(a.b, b.b), true
	case a.kind == scString && b.kind == scString && a.hasTime && b.hasTime:
		return a.t.Compare(b.t), true
	}
	aNum := a.kind == scNum || a.hasNum
	bNum := b.kind == scNum || b.hasNum
	if aNum && bNum {
		if a.isInt && b.isInt {
			return cmpOrdered(a.i, b.i), true
		}
		return cmpOrdered(a.num, b.num), true
	}
	if a.kind == scString && b.kind == scString {
		return strings.Compare(a.str, b.str), true
	}
	return 0, false
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Eval evaluates the expression against a decoded JSON object (see
// [Convert] for the value forms). It returns 1, 0, or ok=false for null.
func (e *Expr) Eval(record map[string]any) (result int64, ok bool) {
	a := e.Left.value(record)
	b := e.Right.value(record)
	c, ok := compare(a, b)
	if !ok {
		return 0, false
	}
	var r bool
	switch e.Op {
	case OpGT:
		r = c > 0
	case OpGE:
		r = c >= 0
	case OpLT:
		r = c < 0
	case OpLE:
		r = c <= 0
	case OpEQ:
		r = c == 0
	case OpNE:
		r = c != 0
	default:
		return 0, false
	}
	if r {
		return 1, true
	}
	return 0, true
}

func (o *Operand) value(record map[string]any) scalar {
	if o.Kind != OperandField {
		return o.lit
	}
	return classify(lookupPath(record, o.Path))
}

// lookupPath follows a dotted path through nested objects; nil when any
// segment is missing.
func lookupPath(record map[string]any, path []string) any {
	var cur any = record
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}
