// Generated from Go 1.26 + sigs.k8s.io/yaml v1.6.0 (go.yaml.in/yaml/v2 v2.4.4), as Helm 3.22 uses them;
// rows: (yaml input, decode error or "", decoded as JSON, toYaml, toJson, toPrettyJson, toRawJson).
pub(crate) const YAML_CASES: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        r#"
int: 1
neg: -5
float: 1.5
big: 1000000
huge: 12345678901234567890
e21: 1e21
small: 0.0000001
f2: 123456789.5
zero: 0
negzero: -0.0
oct: 0777
hex: 0x1F
under: 1_000
"#,
        r#""#,
        r#"{"big":1000000,"e21":1e+21,"f2":123456789.5,"float":1.5,"hex":31,"huge":12345678901234567000,"int":1,"neg":-5,"negzero":-0,"oct":511,"small":1e-7,"under":1000,"zero":0}"#,
        r#"big: 1000000
e21: 1e+21
f2: 1.234567895e+08
float: 1.5
hex: 31
huge: 12345678901234567000
int: 1
neg: -5
negzero: 0
oct: 511
small: 1e-07
under: 1000
zero: 0"#,
        r#"{"big":1000000,"e21":1e+21,"f2":123456789.5,"float":1.5,"hex":31,"huge":12345678901234567000,"int":1,"neg":-5,"negzero":-0,"oct":511,"small":1e-7,"under":1000,"zero":0}"#,
        r#"{
  "big": 1000000,
  "e21": 1e+21,
  "f2": 123456789.5,
  "float": 1.5,
  "hex": 31,
  "huge": 12345678901234567000,
  "int": 1,
  "neg": -5,
  "negzero": -0,
  "oct": 511,
  "small": 1e-7,
  "under": 1000,
  "zero": 0
}"#,
        r#"{"big":1000000,"e21":1e+21,"f2":123456789.5,"float":1.5,"hex":31,"huge":12345678901234567000,"int":1,"neg":-5,"negzero":-0,"oct":511,"small":1e-7,"under":1000,"zero":0}"#,
    ),
    (
        r##"
s1: "true"
s2: "yes"
s3: "on"
s4: "1"
s5: "1.0"
s6: "0777"
s7: ""
s8: "null"
s9: "~"
s10: "2024-01-02"
s11: "1:20"
s12: "-"
s13: "- a"
s14: ": x"
s15: "a: b"
s16: "#x"
s17: "x #y"
s18: "@foo"
s19: "`x"
s20: "  lead"
s21: "trail "
s22: "a'b"
s23: "it's \"q\""
s24: "\ttab"
s25: "é unicode"
s26: "emoji 😀"
s27: "y"
s28: "n"
s29: "NO"
s30: "0x1F"
s31: "1e3"
s32: ".5"
s33: "+1"
s34: "-.inf"
s35: "2024-01-02T10:20:30Z"
s36: "<<"
s37: "*x"
s38: "a,b"
s39: "[x]"
s40: "{x}"
s41: "x: "
s42: "?x"
s43: "? x"
s44: "%x"
s45: "!x"
s46: "|x"
s47: ">x"
s48: "a\u0085b"
s49: "---x"
s50: "..."
s51: "0b101"
s52: "1_000"
s53: "08"
s54: "1.2.3"
s55: "v1.2.3"
s56: "12:30:45"
s57: "x\\y"
"##,
        r#""#,
        r##"{"s1":"true","s10":"2024-01-02","s11":"1:20","s12":"-","s13":"- a","s14":": x","s15":"a: b","s16":"#x","s17":"x #y","s18":"@foo","s19":"`x","s2":"yes","s20":"  lead","s21":"trail ","s22":"a'b","s23":"it's \"q\"","s24":"\ttab","s25":"é unicode","s26":"emoji 😀","s27":"y","s28":"n","s29":"NO","s3":"on","s30":"0x1F","s31":"1e3","s32":".5","s33":"+1","s34":"-.inf","s35":"2024-01-02T10:20:30Z","s36":"\u003c\u003c","s37":"*x","s38":"a,b","s39":"[x]","s4":"1","s40":"{x}","s41":"x: ","s42":"?x","s43":"? x","s44":"%x","s45":"!x","s46":"|x","s47":"\u003ex","s48":"ab","s49":"---x","s5":"1.0","s50":"...","s51":"0b101","s52":"1_000","s53":"08","s54":"1.2.3","s55":"v1.2.3","s56":"12:30:45","s57":"x\\y","s6":"0777","s7":"","s8":"null","s9":"~"}"##,
        r#"s1: "true"
s2: "yes"
s3: "on"
s4: "1"
s5: "1.0"
s6: "0777"
s7: ""
s8: "null"
s9: "~"
s10: "2024-01-02"
s11: "1:20"
s12: '-'
s13: '- a'
s14: ': x'
s15: 'a: b'
s16: '#x'
s17: 'x #y'
s18: '@foo'
s19: '`x'
s20: '  lead'
s21: 'trail '
s22: a'b
s23: it's "q"
s24: "\ttab"
s25: é unicode
s26: "emoji \U0001F600"
s27: "y"
s28: "n"
s29: "NO"
s30: "0x1F"
s31: "1e3"
s32: ".5"
s33: "+1"
s34: "-.inf"
s35: "2024-01-02T10:20:30Z"
s36: <<
s37: '*x'
s38: a,b
s39: '[x]'
s40: '{x}'
s41: 'x: '
s42: ?x
s43: '? x'
s44: '%x'
s45: '!x'
s46: '|x'
s47: '>x'
s48: a b
s49: '---x'
s50: '...'
s51: "0b101"
s52: "1_000"
s53: "08"
s54: 1.2.3
s55: v1.2.3
s56: "12:30:45"
s57: x\y"#,
        r##"{"s1":"true","s10":"2024-01-02","s11":"1:20","s12":"-","s13":"- a","s14":": x","s15":"a: b","s16":"#x","s17":"x #y","s18":"@foo","s19":"`x","s2":"yes","s20":"  lead","s21":"trail ","s22":"a'b","s23":"it's \"q\"","s24":"\ttab","s25":"é unicode","s26":"emoji 😀","s27":"y","s28":"n","s29":"NO","s3":"on","s30":"0x1F","s31":"1e3","s32":".5","s33":"+1","s34":"-.inf","s35":"2024-01-02T10:20:30Z","s36":"\u003c\u003c","s37":"*x","s38":"a,b","s39":"[x]","s4":"1","s40":"{x}","s41":"x: ","s42":"?x","s43":"? x","s44":"%x","s45":"!x","s46":"|x","s47":"\u003ex","s48":"ab","s49":"---x","s5":"1.0","s50":"...","s51":"0b101","s52":"1_000","s53":"08","s54":"1.2.3","s55":"v1.2.3","s56":"12:30:45","s57":"x\\y","s6":"0777","s7":"","s8":"null","s9":"~"}"##,
        r##"{
  "s1": "true",
  "s10": "2024-01-02",
  "s11": "1:20",
  "s12": "-",
  "s13": "- a",
  "s14": ": x",
  "s15": "a: b",
  "s16": "#x",
  "s17": "x #y",
  "s18": "@foo",
  "s19": "`x",
  "s2": "yes",
  "s20": "  lead",
  "s21": "trail ",
  "s22": "a'b",
  "s23": "it's \"q\"",
  "s24": "\ttab",
  "s25": "é unicode",
  "s26": "emoji 😀",
  "s27": "y",
  "s28": "n",
  "s29": "NO",
  "s3": "on",
  "s30": "0x1F",
  "s31": "1e3",
  "s32": ".5",
  "s33": "+1",
  "s34": "-.inf",
  "s35": "2024-01-02T10:20:30Z",
  "s36": "\u003c\u003c",
  "s37": "*x",
  "s38": "a,b",
  "s39": "[x]",
  "s4": "1",
  "s40": "{x}",
  "s41": "x: ",
  "s42": "?x",
  "s43": "? x",
  "s44": "%x",
  "s45": "!x",
  "s46": "|x",
  "s47": "\u003ex",
  "s48": "ab",
  "s49": "---x",
  "s5": "1.0",
  "s50": "...",
  "s51": "0b101",
  "s52": "1_000",
  "s53": "08",
  "s54": "1.2.3",
  "s55": "v1.2.3",
  "s56": "12:30:45",
  "s57": "x\\y",
  "s6": "0777",
  "s7": "",
  "s8": "null",
  "s9": "~"
}"##,
        r##"{"s1":"true","s10":"2024-01-02","s11":"1:20","s12":"-","s13":"- a","s14":": x","s15":"a: b","s16":"#x","s17":"x #y","s18":"@foo","s19":"`x","s2":"yes","s20":"  lead","s21":"trail ","s22":"a'b","s23":"it's \"q\"","s24":"\ttab","s25":"é unicode","s26":"emoji 😀","s27":"y","s28":"n","s29":"NO","s3":"on","s30":"0x1F","s31":"1e3","s32":".5","s33":"+1","s34":"-.inf","s35":"2024-01-02T10:20:30Z","s36":"<<","s37":"*x","s38":"a,b","s39":"[x]","s4":"1","s40":"{x}","s41":"x: ","s42":"?x","s43":"? x","s44":"%x","s45":"!x","s46":"|x","s47":">x","s48":"ab","s49":"---x","s5":"1.0","s50":"...","s51":"0b101","s52":"1_000","s53":"08","s54":"1.2.3","s55":"v1.2.3","s56":"12:30:45","s57":"x\\y","s6":"0777","s7":"","s8":"null","s9":"~"}"##,
    ),
    (
        r#"
m1: "multi\nline"
m2: "multi\nline\n"
m3: "x\n\n"
m4: "\nleading"
m5: " lead\nx"
m6: "trail \nx"
m7: "a\n\nb"
m8: "tab\there\nx"
m9: "\n"
list:
- "a\nb"
- plain
"#,
        r#""#,
        r#"{"list":["a\nb","plain"],"m1":"multi\nline","m2":"multi\nline\n","m3":"x\n\n","m4":"\nleading","m5":" lead\nx","m6":"trail \nx","m7":"a\n\nb","m8":"tab\there\nx","m9":"\n"}"#,
        r#"list:
- |-
  a
  b
- plain
m1: |-
  multi
  line
m2: |
  multi
  line
m3: |+
  x

m4: |2-

  leading
m5: |2-
   lead
  x
m6: "trail \nx"
m7: |-
  a

  b
m8: "tab\there\nx"
m9: |2+
"#,
        r#"{"list":["a\nb","plain"],"m1":"multi\nline","m2":"multi\nline\n","m3":"x\n\n","m4":"\nleading","m5":" lead\nx","m6":"trail \nx","m7":"a\n\nb","m8":"tab\there\nx","m9":"\n"}"#,
        r#"{
  "list": [
    "a\nb",
    "plain"
  ],
  "m1": "multi\nline",
  "m2": "multi\nline\n",
  "m3": "x\n\n",
  "m4": "\nleading",
  "m5": " lead\nx",
  "m6": "trail \nx",
  "m7": "a\n\nb",
  "m8": "tab\there\nx",
  "m9": "\n"
}"#,
        r#"{"list":["a\nb","plain"],"m1":"multi\nline","m2":"multi\nline\n","m3":"x\n\n","m4":"\nleading","m5":" lead\nx","m6":"trail \nx","m7":"a\n\nb","m8":"tab\there\nx","m9":"\n"}"#,
    ),
    (
        r#"
long: This is a very long description string that goes on and on and on past the eighty column limit for sure yes
longq: "This is a very long description string that goes on and on and on past the eighty column limit for sure yes: with colon"
longnospace: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
nested:
  deeper:
    deepest: This is a very long description string that goes on and on and on past the eighty column limit for sure yes
lst:
- This is a very long description string that goes on and on and on past the eighty column limit for sure yes
"#,
        r#""#,
        r#"{"long":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes","longnospace":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","longq":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes: with colon","lst":["This is a very long description string that goes on and on and on past the eighty column limit for sure yes"],"nested":{"deeper":{"deepest":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes"}}}"#,
        r#"long: This is a very long description string that goes on and on and on past the eighty
  column limit for sure yes
longnospace: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
longq: 'This is a very long description string that goes on and on and on past the
  eighty column limit for sure yes: with colon'
lst:
- This is a very long description string that goes on and on and on past the eighty
  column limit for sure yes
nested:
  deeper:
    deepest: This is a very long description string that goes on and on and on past
      the eighty column limit for sure yes"#,
        r#"{"long":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes","longnospace":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","longq":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes: with colon","lst":["This is a very long description string that goes on and on and on past the eighty column limit for sure yes"],"nested":{"deeper":{"deepest":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes"}}}"#,
        r#"{
  "long": "This is a very long description string that goes on and on and on past the eighty column limit for sure yes",
  "longnospace": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "longq": "This is a very long description string that goes on and on and on past the eighty column limit for sure yes: with colon",
  "lst": [
    "This is a very long description string that goes on and on and on past the eighty column limit for sure yes"
  ],
  "nested": {
    "deeper": {
      "deepest": "This is a very long description string that goes on and on and on past the eighty column limit for sure yes"
    }
  }
}"#,
        r#"{"long":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes","longnospace":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","longq":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes: with colon","lst":["This is a very long description string that goes on and on and on past the eighty column limit for sure yes"],"nested":{"deeper":{"deepest":"This is a very long description string that goes on and on and on past the eighty column limit for sure yes"}}}"#,
    ),
    (
        r#"
a10: 1
a2: 2
A: 3
b: 4
_x: 5
"1": 6
"10": 7
"9": 8
a_b: 9
ab: 10
a-b: 11
aB: 12
"": 13
z01: 14
z1: 15
z001: 16
é: 17
Z: 18
"#,
        r#""#,
        r#"{"":13,"1":6,"10":7,"9":8,"A":3,"Z":18,"_x":5,"a-b":11,"a10":1,"a2":2,"aB":12,"a_b":9,"ab":10,"b":4,"z001":16,"z01":14,"z1":15,"é":17}"#,
        r#""": 13
_x: 5
"1": 6
"9": 8
"10": 7
A: 3
Z: 18
a-b: 11
a_b: 9
a2: 2
a10: 1
aB: 12
ab: 10
b: 4
z1: 15
z01: 14
z001: 16
é: 17"#,
        r#"{"":13,"1":6,"10":7,"9":8,"A":3,"Z":18,"_x":5,"a-b":11,"a10":1,"a2":2,"aB":12,"a_b":9,"ab":10,"b":4,"z001":16,"z01":14,"z1":15,"é":17}"#,
        r#"{
  "": 13,
  "1": 6,
  "10": 7,
  "9": 8,
  "A": 3,
  "Z": 18,
  "_x": 5,
  "a-b": 11,
  "a10": 1,
  "a2": 2,
  "aB": 12,
  "a_b": 9,
  "ab": 10,
  "b": 4,
  "z001": 16,
  "z01": 14,
  "z1": 15,
  "é": 17
}"#,
        r#"{"":13,"1":6,"10":7,"9":8,"A":3,"Z":18,"_x":5,"a-b":11,"a10":1,"a2":2,"aB":12,"a_b":9,"ab":10,"b":4,"z001":16,"z01":14,"z1":15,"é":17}"#,
    ),
    (
        r#"
lst:
- a: 1
  b: [1, 2]
  c: {}
- []
- {}
- - x
  - y
- null
- ~
emptymap: {}
emptylist: []
nul: null
nested:
  list:
  - 1
  - two
  map:
    k: v
"#,
        r#""#,
        r#"{"emptylist":[],"emptymap":{},"lst":[{"a":1,"b":[1,2],"c":{}},[],{},["x",true],null,null],"nested":{"list":[1,"two"],"map":{"k":"v"}},"nul":null}"#,
        r#"emptylist: []
emptymap: {}
lst:
- a: 1
  b:
  - 1
  - 2
  c: {}
- []
- {}
- - x
  - true
- null
- null
nested:
  list:
  - 1
  - two
  map:
    k: v
nul: null"#,
        r#"{"emptylist":[],"emptymap":{},"lst":[{"a":1,"b":[1,2],"c":{}},[],{},["x",true],null,null],"nested":{"list":[1,"two"],"map":{"k":"v"}},"nul":null}"#,
        r#"{
  "emptylist": [],
  "emptymap": {},
  "lst": [
    {
      "a": 1,
      "b": [
        1,
        2
      ],
      "c": {}
    },
    [],
    {},
    [
      "x",
      true
    ],
    null,
    null
  ],
  "nested": {
    "list": [
      1,
      "two"
    ],
    "map": {
      "k": "v"
    }
  },
  "nul": null
}"#,
        r#"{"emptylist":[],"emptymap":{},"lst":[{"a":1,"b":[1,2],"c":{}},[],{},["x",true],null,null],"nested":{"list":[1,"two"],"map":{"k":"v"}},"nul":null}"#,
    ),
    (
        r#"
base: &b
  x: 1
  y: 2
other:
  <<: *b
  y: 3
ref: *b
yes: 1
on: 2
off: 3
1: a
1.5: b
true: c
~: d
"#,
        r#"error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: "d""#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
    ),
    (
        r#"
- 1
- two
"#,
        r#""#,
        r#"[1,"two"]"#,
        r#"- 1
- two"#,
        r#"[1,"two"]"#,
        r#"[
  1,
  "two"
]"#,
        r#"[1,"two"]"#,
    ),
    (
        r#"plain string"#,
        r#""#,
        r#""plain string""#,
        r#"plain string"#,
        r#""plain string""#,
        r#""plain string""#,
        r#""plain string""#,
    ),
    (
        r#""#, r#""#, r#"null"#, r#"null"#, r#"null"#, r#"null"#, r#"null"#,
    ),
    (
        r#"null"#, r#""#, r#"null"#, r#"null"#, r#"null"#, r#"null"#, r#"null"#,
    ),
    (
        r#"
html: "<a href='x'>&</a>"
uni: "\u2028 and \u2029"
ctrl: "bell\a"
"#,
        r#""#,
        r#"{"ctrl":"bell\u0007","html":"\u003ca href='x'\u003e\u0026\u003c/a\u003e","uni":"\u2028 and \u2029"}"#,
        r#"ctrl: "bell\a"
html: <a href='x'>&</a>
uni: "\L and \P""#,
        r#"{"ctrl":"bell\u0007","html":"\u003ca href='x'\u003e\u0026\u003c/a\u003e","uni":"\u2028 and \u2029"}"#,
        r#"{
  "ctrl": "bell\u0007",
  "html": "\u003ca href='x'\u003e\u0026\u003c/a\u003e",
  "uni": "\u2028 and \u2029"
}"#,
        r#"{"ctrl":"bell\u0007","html":"<a href='x'>&</a>","uni":"\u2028 and \u2029"}"#,
    ),
    (
        r#"
k: [unclosed
"#,
        r#"error converting YAML to JSON: yaml: line 2: did not find expected ',' or ']'"#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
    ),
    (
        r#"
dup: 1
dup: 2
"#,
        r#""#,
        r#"{"dup":2}"#,
        r#"dup: 2"#,
        r#"{"dup":2}"#,
        r#"{
  "dup": 2
}"#,
        r#"{"dup":2}"#,
    ),
    (
        r#"
tsv: 2024-01-02
tsq: '2024-01-02'
ver: 1.10
verq: "1.10"
bools: [yes, No, TRUE, off, y]
"#,
        r#""#,
        r#"{"bools":[true,false,true,false,true],"tsq":"2024-01-02","tsv":"2024-01-02","ver":1.1,"verq":"1.10"}"#,
        r#"bools:
- true
- false
- true
- false
- true
tsq: "2024-01-02"
tsv: "2024-01-02"
ver: 1.1
verq: "1.10""#,
        r#"{"bools":[true,false,true,false,true],"tsq":"2024-01-02","tsv":"2024-01-02","ver":1.1,"verq":"1.10"}"#,
        r#"{
  "bools": [
    true,
    false,
    true,
    false,
    true
  ],
  "tsq": "2024-01-02",
  "tsv": "2024-01-02",
  "ver": 1.1,
  "verq": "1.10"
}"#,
        r#"{"bools":[true,false,true,false,true],"tsq":"2024-01-02","tsv":"2024-01-02","ver":1.1,"verq":"1.10"}"#,
    ),
    (
        r#"a: 1
---
b: 2
"#,
        r#""#,
        r#"{"a":1}"#,
        r#"a: 1"#,
        r#"{"a":1}"#,
        r#"{
  "a": 1
}"#,
        r#"{"a":1}"#,
    ),
    (
        r#"s: !!str 123
i: !!int "5"
f: !!float 1
b: !!bool yes
"#,
        r#""#,
        r#"{"b":true,"f":1,"i":5,"s":"123"}"#,
        r#"b: true
f: 1
i: 5
s: "123""#,
        r#"{"b":true,"f":1,"i":5,"s":"123"}"#,
        r#"{
  "b": true,
  "f": 1,
  "i": 5,
  "s": "123"
}"#,
        r#"{"b":true,"f":1,"i":5,"s":"123"}"#,
    ),
    (
        r#"folded: >
  a
  b

  c
keep: |+
  x

strip: |-
  y
"#,
        r#""#,
        r#"{"folded":"a b\nc\n","keep":"x\n\n","strip":"y"}"#,
        r#"folded: |
  a b
  c
keep: |+
  x

strip: "y""#,
        r#"{"folded":"a b\nc\n","keep":"x\n\n","strip":"y"}"#,
        r#"{
  "folded": "a b\nc\n",
  "keep": "x\n\n",
  "strip": "y"
}"#,
        r#"{"folded":"a b\nc\n","keep":"x\n\n","strip":"y"}"#,
    ),
    (
        r#"base: &a {x: 1}
b2: &b {y: 2}
m:
  <<: [*a, *b]
  z: 3
l: &l [1, 2]
l2: *l
"#,
        r#""#,
        r#"{"b2":{"true":2},"base":{"x":1},"l":[1,2],"l2":[1,2],"m":{"true":2,"x":1,"z":3}}"#,
        r#"b2:
  "true": 2
base:
  x: 1
l:
- 1
- 2
l2:
- 1
- 2
m:
  "true": 2
  x: 1
  z: 3"#,
        r#"{"b2":{"true":2},"base":{"x":1},"l":[1,2],"l2":[1,2],"m":{"true":2,"x":1,"z":3}}"#,
        r#"{
  "b2": {
    "true": 2
  },
  "base": {
    "x": 1
  },
  "l": [
    1,
    2
  ],
  "l2": [
    1,
    2
  ],
  "m": {
    "true": 2,
    "x": 1,
    "z": 3
  }
}"#,
        r#"{"b2":{"true":2},"base":{"x":1},"l":[1,2],"l2":[1,2],"m":{"true":2,"x":1,"z":3}}"#,
    ),
    (
        r#"1: x
1.5: y
true: z
-2: w
0x10: v
"#,
        r#""#,
        r#"{"-2":"w","1":"x","1.5":true,"16":"v","true":"z"}"#,
        r#""-2": w
"1": x
"1.5": true
"16": v
"true": z"#,
        r#"{"-2":"w","1":"x","1.5":true,"16":"v","true":"z"}"#,
        r#"{
  "-2": "w",
  "1": "x",
  "1.5": true,
  "16": "v",
  "true": "z"
}"#,
        r#"{"-2":"w","1":"x","1.5":true,"16":"v","true":"z"}"#,
    ),
    (
        r#"f: {a: [1, {b: c}], d: 'single ''q'''}
# comment
g: "dq \"x\" \t"
"#,
        r#""#,
        r#"{"f":{"a":[1,{"b":"c"}],"d":"single 'q'"},"g":"dq \"x\" \t"}"#,
        r#"f:
  a:
  - 1
  - b: c
  d: single 'q'
g: "dq \"x\" \t""#,
        r#"{"f":{"a":[1,{"b":"c"}],"d":"single 'q'"},"g":"dq \"x\" \t"}"#,
        r#"{
  "f": {
    "a": [
      1,
      {
        "b": "c"
      }
    ],
    "d": "single 'q'"
  },
  "g": "dq \"x\" \t"
}"#,
        r#"{"f":{"a":[1,{"b":"c"}],"d":"single 'q'"},"g":"dq \"x\" \t"}"#,
    ),
    (
        r#"crlf: a
b: 2
"#,
        r#""#,
        r#"{"b":2,"crlf":"a"}"#,
        r#"b: 2
crlf: a"#,
        r#"{"b":2,"crlf":"a"}"#,
        r#"{
  "b": 2,
  "crlf": "a"
}"#,
        r#"{"b":2,"crlf":"a"}"#,
    ),
    (
        r#"﻿bom: 1
"#,
        r#""#,
        r#"{"bom":1}"#,
        r#"bom: 1"#,
        r#"{"bom":1}"#,
        r#"{
  "bom": 1
}"#,
        r#"{"bom":1}"#,
    ),
    (
        r#"inf: .inf
"#,
        r#"error converting YAML to JSON: json: unsupported value: +Inf"#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
    ),
    (
        r#"n1: 1e3
n2: 0o17
n3: +12
n4: 12_000
n5: .5
n6: 1.
n7: -.5
n8: 0x1F
n9: -0x1F
n10: 0b11
n11: 9223372036854775808
n12: 1_0.5
n13: 1e400
"#,
        r#""#,
        r#"{"n1":1000,"n10":3,"n11":9223372036854776000,"n12":10.5,"n13":"1e400","n2":15,"n3":12,"n4":12000,"n5":0.5,"n6":1,"n7":-0.5,"n8":31,"n9":-31}"#,
        r#"n1: 1000
n2: 15
n3: 12
n4: 12000
n5: 0.5
n6: 1
n7: -0.5
n8: 31
n9: -31
n10: 3
n11: 9223372036854776000
n12: 10.5
n13: 1e400"#,
        r#"{"n1":1000,"n10":3,"n11":9223372036854776000,"n12":10.5,"n13":"1e400","n2":15,"n3":12,"n4":12000,"n5":0.5,"n6":1,"n7":-0.5,"n8":31,"n9":-31}"#,
        r#"{
  "n1": 1000,
  "n10": 3,
  "n11": 9223372036854776000,
  "n12": 10.5,
  "n13": "1e400",
  "n2": 15,
  "n3": 12,
  "n4": 12000,
  "n5": 0.5,
  "n6": 1,
  "n7": -0.5,
  "n8": 31,
  "n9": -31
}"#,
        r#"{"n1":1000,"n10":3,"n11":9223372036854776000,"n12":10.5,"n13":"1e400","n2":15,"n3":12,"n4":12000,"n5":0.5,"n6":1,"n7":-0.5,"n8":31,"n9":-31}"#,
    ),
    (
        r#"empty:
null2: ~
list:
-
- a
"#,
        r#""#,
        r#"{"empty":null,"list":[null,"a"],"null2":null}"#,
        r#"empty: null
list:
- null
- a
null2: null"#,
        r#"{"empty":null,"list":[null,"a"],"null2":null}"#,
        r#"{
  "empty": null,
  "list": [
    null,
    "a"
  ],
  "null2": null
}"#,
        r#"{"empty":null,"list":[null,"a"],"null2":null}"#,
    ),
    (
        r#"k: v
  bad: indent
"#,
        r#"error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context"#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
        r#""#,
    ),
    (
        r#"nested:
  - a: 1
    b:
      - x
      - y
  - c
"#,
        r#""#,
        r#"{"nested":[{"a":1,"b":["x",true]},"c"]}"#,
        r#"nested:
- a: 1
  b:
  - x
  - true
- c"#,
        r#"{"nested":[{"a":1,"b":["x",true]},"c"]}"#,
        r#"{
  "nested": [
    {
      "a": 1,
      "b": [
        "x",
        true
      ]
    },
    "c"
  ]
}"#,
        r#"{"nested":[{"a":1,"b":["x",true]},"c"]}"#,
    ),
    (
        r##"q1: 'a: b'
q2: "#c"
plain: a #comment
url: http://x.y/z?q=1#frag
colon: a:b
"##,
        r#""#,
        r##"{"colon":"a:b","plain":"a","q1":"a: b","q2":"#c","url":"http://x.y/z?q=1#frag"}"##,
        r#"colon: a:b
plain: a
q1: 'a: b'
q2: '#c'
url: http://x.y/z?q=1#frag"#,
        r##"{"colon":"a:b","plain":"a","q1":"a: b","q2":"#c","url":"http://x.y/z?q=1#frag"}"##,
        r##"{
  "colon": "a:b",
  "plain": "a",
  "q1": "a: b",
  "q2": "#c",
  "url": "http://x.y/z?q=1#frag"
}"##,
        r##"{"colon":"a:b","plain":"a","q1":"a: b","q2":"#c","url":"http://x.y/z?q=1#frag"}"##,
    ),
    (
        r#"date: 2001-12-14t21:59:43.10-05:00
ver: 1.20
octs: 0755
yes: no
"#,
        r#""#,
        r#"{"date":"2001-12-14t21:59:43.10-05:00","octs":493,"true":false,"ver":1.2}"#,
        r#"date: "2001-12-14t21:59:43.10-05:00"
octs: 493
"true": false
ver: 1.2"#,
        r#"{"date":"2001-12-14t21:59:43.10-05:00","octs":493,"true":false,"ver":1.2}"#,
        r#"{
  "date": "2001-12-14t21:59:43.10-05:00",
  "octs": 493,
  "true": false,
  "ver": 1.2
}"#,
        r#"{"date":"2001-12-14t21:59:43.10-05:00","octs":493,"true":false,"ver":1.2}"#,
    ),
    (
        r#"{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "v", "short": {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": [1, 2]}, "multi\nline key": {"a": 1}, "x": {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": {"y": "z"}}, "b": {"multi\nkey": [1]}}"#,
        r#""#,
        r#"{"b":{"multi\nkey":[1]},"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":"v","multi\nline key":{"a":1},"short":{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":[1,2]},"x":{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":{"y":"z"}}}"#,
        r#"b:
  ? |-
    multi
    key
  : - 1
? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
: v
? |-
  multi
  line key
: a: 1
short:
  ? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
  : - 1
    - 2
x:
  ? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
  : "y": z"#,
        r#"{"b":{"multi\nkey":[1]},"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":"v","multi\nline key":{"a":1},"short":{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":[1,2]},"x":{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":{"y":"z"}}}"#,
        r#"{
  "b": {
    "multi\nkey": [
      1
    ]
  },
  "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "v",
  "multi\nline key": {
    "a": 1
  },
  "short": {
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": [
      1,
      2
    ]
  },
  "x": {
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": {
      "y": "z"
    }
  }
}"#,
        r#"{"b":{"multi\nkey":[1]},"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":"v","multi\nline key":{"a":1},"short":{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":[1,2]},"x":{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":{"y":"z"}}}"#,
    ),
    (
        r#"10000000000000000: a
1.0: b
1e20: c
0x10: d
2.50: e
"#,
        r#""#,
        r#"{"1":"b","10000000000000000":"a","16":"d","1e+20":"c","2.5":"e"}"#,
        r#""1": b
"16": d
"10000000000000000": a
"1e+20": c
"2.5": e"#,
        r#"{"1":"b","10000000000000000":"a","16":"d","1e+20":"c","2.5":"e"}"#,
        r#"{
  "1": "b",
  "10000000000000000": "a",
  "16": "d",
  "1e+20": "c",
  "2.5": "e"
}"#,
        r#"{"1":"b","10000000000000000":"a","16":"d","1e+20":"c","2.5":"e"}"#,
    ),
];
