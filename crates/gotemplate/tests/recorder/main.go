// Records Go's text/template behaviour for cases the Rust engine is tested
// against. Run: `go run . call > ../../src/golden_call_cases.rs` and
// `go run . types > ../../src/golden_types_cases.rs`.
// Standard library only, so it runs without module downloads.
package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"text/template"
)

// obj stands for a Go struct whose methods hand out function values.
type obj struct{ base int }

// Adder returns a function value, which only `call` can invoke.
func (o *obj) Adder() func(int, int) int {
	return func(a, b int) int { return o.base + a + b }
}

// callData is the data of the `call` cases; the Rust test builds the same.
func callData() map[string]any {
	return map[string]any{
		"add":   func(a, b int) int { return a + b },
		"greet": func(s string) string { return "hi " + s },
		"join": func(sep string, xs ...string) string {
			return strings.Join(xs, sep)
		},
		"fails": func() (string, error) { return "", errors.New("boom") },
		"oks":   func() (string, error) { return "fine", nil },
		"any":   func(v any) string { return fmt.Sprintf("<%v>", v) },
		"mk":    func(n int) func() int { return func() int { return n } },
		"m":     map[string]any{"f": func() string { return "inner" }},
		"obj":   &obj{base: 10},
		"s":     "str",
		"i":     3,
		"n":     nil,
		"list":  []any{1, 2},
	}
}

// typesData holds Go integers of several widths, as Sprig and Helm hand them
// to templates; the Rust test builds the same.
func typesData() map[string]any {
	return map[string]any{
		"i":    7,
		"i64":  int64(-5),
		"i32":  int32(3),
		"u8":   uint8(200),
		"u64":  uint64(9),
		"f":    1.5,
		"s":    "héllo",
		"b":    []byte("hi"),
		"list": []any{int64(1), 2, uint8(3)},
		"m":    map[string]any{"n": int64(4)},
		// a uint64 beyond int64 (Masterminds semver's .Major can be one)
		"ubig":  uint64(math.MaxUint64),
		"uhalf": uint64(1 << 63),
		// typed slices as Sprig returns them (until: []int, splitList: []string)
		"ints":  []int{0, 1, 2},
		"strs":  []string{"a", "b"},
		"mixed": []any{[]int{1}, []string{"x"}, uint8(7)},
	}
}

var typesCases = []tcase{
	{"types1", `{{ printf "%T %T %T %T %T %T" .i .i64 .i32 .u8 .u64 .f }}`},
	{"types2", `{{ printf "%T %T %T" 1 (len .s) (index .s 1) }}`},
	{"types3", `{{ range $i, $v := .b }}{{ printf "%T/%T=%v " $i $v $v }}{{ end }}`},
	{"types4", `{{ range .i64 }}{{ . }}{{ end }}|{{ range $v := .i32 }}{{ printf "%T%v " $v $v }}{{ end }}`},
	{"types5", `{{ range .list }}{{ printf "%T " . }}{{ end }}{{ printf "%T" .m.n }}`},
	{"types6", `{{ eq .i 7 }} {{ eq .i64 -5 }} {{ eq .u8 200 }} {{ lt .i64 .i }} {{ lt .u8 .i }} {{ eq .i32 .i64 }}`},
	{"types7", `{{ printf "%v %d %x %X %o %c %q %08b" .u8 .i64 .u8 .i64 .i32 .u8 .u8 .i32 }}`},
	{"types8", `{{ printf "%s" .i64 }}|{{ printf "%s" .u8 }}|{{ printf "%t" .u64 }}`},
	{"types9", `{{ index .b 0 | printf "%T %v" }} {{ slice .b 1 | printf "%T %v" }}`},
	{"types10", `{{ printf "%v" .list }} {{ .list }} {{ .m }} {{ print .i64 .u8 }}`},
	{"types11", `{{ len .i64 }}`},
	{"types12", `{{ eq .i64 "x" }}`},
	{"types13", `{{ lt .u8 1.5 }}`},
	{"types14", `{{ index .list .i64 }}`},
	{"types15", `{{ range $i, $v := .i64 }}{{ end }}`},
	{"types16", `{{ if .i64 }}t{{ end }}{{ if .u8 }}u{{ end }}{{ and .i32 .u64 }}`},
	{"ubig1", `{{ .ubig }} {{ print .ubig .uhalf }} {{ printf "%v %d %x %X %o %b" .ubig .ubig .ubig .ubig .uhalf .uhalf }}`},
	{"ubig2", `{{ printf "%#v|%#x|%+d|% d|%25d|%-22d|%022d|%.3d|%T" .ubig .ubig .ubig .ubig .ubig .ubig .ubig .ubig .ubig }}`},
	{"ubig3", `{{ printf "%c|%q|%U|%#U|%s|%t|%f|%e" .ubig .ubig .ubig .ubig .ubig .ubig .ubig .ubig }}`},
	{"ubig4", `{{ printf "%#v %#v %#v %#v %#x" .u8 .u64 .i64 .i .u8 }}`},
	{"ubig5", `{{ eq .ubig .ubig }} {{ eq .ubig -1 }} {{ eq -1 .ubig }} {{ eq .ubig .uhalf }} {{ lt .i64 .ubig }} {{ lt .ubig .i }} {{ gt .ubig .i }} {{ le .uhalf .ubig }} {{ ge .ubig 0 }} {{ ne .ubig 5 }} {{ lt -1 .ubig }} {{ lt .ubig -1 }}`},
	{"ubig6", `{{ printf "%*d|%.*d|%-*d|%.*d|" .ubig 1 .ubig 1 .uhalf 1 -1 5 }}`},
	{"ubig7", `{{ if .ubig }}t{{ end }} {{ and .ubig 1 }} {{ or 0 .ubig }} {{ not .ubig }} {{ .ubig | print }} {{ println .ubig }}`},
	{"ubig8", `{{ index .list .ubig }}`},
	{"ubig9", `{{ $h := .uhalf }}{{ slice .list 0 $h }}`},
	{"ubig10", `{{ 18446744073709551615 }}`},
	{"ubig11", `{{ eq 1 18446744073709551615 }}`},
	{"ubig12", `{{ printf "%T" 0xFFFFFFFFFFFFFFFF }}`},
	{"ubig13", `{{ -9223372036854775809 }}`},
	{"ubig14", `{{ 18446744073709551616 }}`},
	{"ubig15", `{{ +9223372036854775808 }}`},
	{"ubig16", `{{ printf "%v %T" 9223372036854775807 -9223372036854775808 }} {{ 1.8446744073709551615e19 }}`},
	{"ubig17", `{{ range $i, $v := .ubig }}{{ end }}`},
	{"ubig18", `{{ printf "%c|%U|%c" .i64 .i64 1114112 }}`},
	{"slices1", `{{ printf "%T %T %T %v %v %#v %#v %d" .ints .strs .mixed .ints .strs .ints .strs .ints }}`},
	{"slices2", `{{ printf "%#v|%q|%x|%s" .mixed .strs .strs .ints }}`},
	{"slices3", `{{ index .ints 1 | printf "%T" }} {{ printf "%T %v" (slice .ints 1) (slice .ints 1) }} {{ printf "%T %v" (slice .strs 1) (slice .strs 1) }} {{ printf "%T %v" (slice .ints 1 2 3) (slice .ints 1 2 3) }} {{ len .ints }} {{ len .strs }}`},
	{"slices4", `{{ range $i, $v := .ints }}{{ printf "%T " $v }}{{ end }}{{ range .strs }}{{ printf "%T " . }}{{ end }}{{ range .mixed }}{{ printf "%T " . }}{{ end }}`},
	{"slices5", `{{ eq .ints .ints }}`},
	{"slices6", `{{ eq .strs .list }}`},
	{"slices7", `{{ lt .ints 1 }}`},
	{"slices8", `{{ if .ints }}t{{ end }} {{ print .ints .strs }} {{ .mixed }} {{ printf "%v" (slice .ints 0 0) }}`},
}

type tcase struct{ name, tmpl string }

var callCases = []tcase{
	{"call1", `{{ call .add 1 2 }}`},
	{"call2", `{{ call .greet "bob" }}`},
	{"call3", `{{ call .join "-" "a" "b" "c" }}|{{ call .join "," }}`},
	{"call4", `{{ call .fails }}`},
	{"call5", `{{ call .oks }}`},
	{"call6", `{{ call .m.f }}`},
	{"call7", `{{ $f := .add }}{{ call $f 20 22 }}`},
	{"call8", `{{ call .obj.Adder 1 2 }}`},
	{"call9", `{{ call (call .mk 7) }}`},
	{"call10", `{{ 5 | call .add 1 }}`},
	{"call11", `{{ call .s }}`},
	{"call12", `{{ call .i 1 }}`},
	{"call13", `{{ call .n }}`},
	{"call14", `{{ call .missing }}`},
	{"call15", `{{ call .list }}`},
	{"call16", `{{ call .m }}`},
	{"call17", `{{ call .add 1 }}`},
	{"call18", `{{ call .add 1 2 3 }}`},
	{"call19", `{{ call .add 1 "x" }}`},
	{"call20", `{{ call .greet 1 }}`},
	{"call21", `{{ call .greet nil }}`},
	{"call22", `{{ call .any nil }}|{{ call .any 1.5 }}|{{ call .any .list }}`},
	{"call23", `{{ call .join }}`},
	{"call24", `{{ call .join "," "a" 2 }}`},
	{"call25", `{{ call }}`},
	{"call26", `{{ call "x" }}`},
	{"call27", `{{ call .add .s 1 }}`},
	{"call28", `{{ printf "%T" .add }}|{{ printf "%T" .join }}|{{ printf "%T" .fails }}|{{ printf "%T" .obj.Adder }}`},
	{"call29", `{{ .add }}`},
	{"call30", `{{ if .add }}yes{{ end }}`},
	{"call31", `{{ .add 1 2 }}`},
	{"call32", `{{ len .add }}`},
	{"call33", `{{ $x := .n }}{{ call $x }}`},
	{"call34", `{{ call .greet .missing }}`},
	{"call35", `{{ call .any .missing }}`},
	{"call36", `{{ with .add }}{{ call . 2 3 }}{{ end }}`},
	{"call37", `{{ call (index .m "f") }}`},
	{"call38", `{{ call .add 1.5 2 }}`},
	{"call39", `{{ call .greet .i }}`},
	{"call40", `{{ call .fails | printf "%q" }}`},
}

func run(tmpl string, data any) (string, string) {
	t, err := template.New("t").Parse(tmpl)
	if err != nil {
		return "", err.Error()
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err.Error()
	}
	return b.String(), ""
}

// raw quotes s as a Rust raw string literal.
func raw(s string) string {
	h := "#"
	for strings.Contains(s, "\""+h) {
		h += "#"
	}
	return "r" + h + "\"" + s + "\"" + h
}

func main() {
	var cases []tcase
	var data func() map[string]any
	var name string
	switch {
	case len(os.Args) == 2 && os.Args[1] == "call":
		cases, data, name = callCases, callData, "CALL_CASES"
	case len(os.Args) == 2 && os.Args[1] == "types":
		cases, data, name = typesCases, typesData, "TYPES_CASES"
	default:
		fmt.Fprintln(os.Stderr, "usage: go run . call|types")
		os.Exit(2)
	}
	fmt.Printf("// Generated by crates/gotemplate/tests/recorder (`go run . %s`) from Go's text/template;\n", os.Args[1])
	fmt.Println("// do not edit by hand: each row is (name, template, output, error).")
	fmt.Printf("pub(crate) const %s: &[(&str, &str, &str, &str)] = &[\n", name)
	for _, c := range cases {
		out, errs := run(c.tmpl, data())
		fmt.Printf("    (%s, %s, %s, %s),\n", raw(c.name), raw(c.tmpl), raw(out), raw(errs))
	}
	fmt.Println("];")
}
