//! Chart features checked byte for byte against the reference `helm template`: each test
//! writes a small chart, renders it with both, and compares the whole output (or, where helm
//! fails, checks that ours fails too).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is a test failure

use ferroflux_helm::{Options, default_funcs, template};
use std::path::{Path, PathBuf};
use std::process::Command;

fn helm_bin() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/bin/helm");
    assert!(
        p.exists(),
        "reference helm missing at {}: run `make tools`",
        p.display()
    );
    p
}

/// Writes `files` (path, content) under `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
}

/// `helm template` args after the chart path, and our options for the same.
struct Args {
    flags: Vec<String>,
    opts: Options,
}

fn args(flags: &[&str]) -> Args {
    let mut opts = Options {
        release_name: "rel".into(),
        namespace: "ns1".into(),
        ..Options::default()
    };
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        let mut val = || it.next().map(|s| s.to_string()).unwrap();
        match *f {
            "-f" => opts.value_files.push(PathBuf::from(val())),
            "--set" => opts.set.push(val()),
            "--set-string" => opts.set_string.push(val()),
            "--set-json" => opts.set_json.push(val()),
            "--kube-version" => opts.kube_version = Some(val()),
            "--api-versions" => opts.api_versions.push(val()),
            "--include-crds" => opts.include_crds = true,
            "--skip-tests" => opts.skip_tests = true,
            other => panic!("unknown flag {other}"),
        }
    }
    Args {
        flags: flags.iter().map(|s| s.to_string()).collect(),
        opts,
    }
}

/// Renders with both; returns (helm result, our result).
fn both(chart: &Path, a: &Args) -> (Result<String, String>, Result<String, String>) {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(helm_bin())
        .args(["template", "rel"])
        .arg(chart)
        .args(["--namespace", "ns1"])
        .args(&a.flags)
        .env("HELM_CACHE_HOME", scratch.path().join("c"))
        .env("HELM_CONFIG_HOME", scratch.path().join("f"))
        .env("HELM_DATA_HOME", scratch.path().join("d"))
        .env("KUBECONFIG", scratch.path().join("k"))
        .output()
        .unwrap();
    let helm = if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let ours = template(chart, &a.opts, default_funcs()).map_err(|e| e.to_string());
    (helm, ours)
}

fn assert_same(chart: &Path, flags: &[&str]) -> String {
    let (helm, ours) = both(chart, &args(flags));
    let helm = helm.unwrap_or_else(|e| panic!("helm failed: {e}"));
    let ours = ours.unwrap_or_else(|e| panic!("ours failed: {e}\nhelm printed:\n{helm}"));
    pretty_assertions::assert_eq!(helm, ours);
    ours
}

fn assert_both_fail(chart: &Path, flags: &[&str], ours_contains: &str) {
    let (helm, ours) = both(chart, &args(flags));
    assert!(helm.is_err(), "helm succeeded: {helm:?}");
    let e = ours.expect_err("ours succeeded where helm fails");
    assert!(
        e.contains(ours_contains),
        "our error {e:?} lacks {ours_contains:?}; helm: {helm:?}"
    );
}

const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n";

#[test]
fn subcharts_alias_condition_tags_globals_and_import_values() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 0.1.x\n  alias: first\n  import-values:\n  - data\n  - child: deep\n    parent: fromdeep\n- name: sub\n  version: 0.1.x\n  alias: second\n  condition: second.enabled\n- name: other\n  version: '*'\n  tags: [backend]\n",
            ),
            (
                "values.yaml",
                "global:\n  region: eu\n  nested: {a: 1}\nfirst:\n  greeting: hi\nsecond:\n  enabled: false\ntags:\n  backend: false\nkeep: 1\ndrop: 2\n",
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: top\ndata:\n  x: {{ .Values.x | quote }}\n  yy: {{ .Values.fromdeep.yy | quote }}\n  keep: {{ .Values.keep | quote }}\n  drop: {{ .Values.drop | quote }}\n  sub: {{ .Values.first.greeting }}\n  subcharts: {{ keys .Subcharts | sortAlpha | join \",\" }}\n",
            ),
            (
                "charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 0.1.2\n",
            ),
            (
                "charts/sub/values.yaml",
                "greeting: hello\nexports:\n  data:\n    x: exported\ndeep:\n  yy: deepval\nglobal:\n  region: us\n  own: sub\n",
            ),
            (
                "charts/sub/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  greeting: {{ .Values.greeting }}\n  region: {{ .Values.global.region }}\n  own: {{ .Values.global.own }}\n  nested: {{ .Values.global.nested.a | quote }}\n  isroot: {{ .Chart.IsRoot | quote }}\n  tmpl: {{ .Template.Name }} {{ .Template.BasePath }}\n",
            ),
            (
                "charts/other/Chart.yaml",
                "apiVersion: v2\nname: other\nversion: 2.0.0\n",
            ),
            ("charts/other/templates/cm.yaml", CM),
            ("user.yaml", "drop: null\nfirst:\n  greeting: null\n"),
        ],
    );
    assert_same(d.path(), &[]);
    let user = d.path().join("user.yaml");
    assert_same(d.path(), &["-f", user.to_str().unwrap()]);
    assert_same(
        d.path(),
        &["--set", "tags.backend=true,second.enabled=true"],
    );
    assert_same(
        d.path(),
        &[
            "--set",
            "first.greeting=a\\,b",
            "--set-string",
            "keep=007",
            "--set-json",
            "x={\"k\":[1,2]}",
        ],
    );
}

#[test]
fn library_charts_and_define_precedence() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: lib\n  version: 1.0.0\n",
            ),
            (
                "templates/_over.tpl",
                "{{- define \"lib.name\" -}}from-app{{- end -}}",
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"lib.name\" . }}\ndata:\n  helper: {{ include \"lib.helper\" . }}\n",
            ),
            (
                "charts/lib/Chart.yaml",
                "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n",
            ),
            (
                "charts/lib/templates/_lib.tpl",
                "{{- define \"lib.name\" -}}from-lib{{- end -}}\n{{- define \"lib.helper\" -}}{{ .Chart.Name }}-helper{{- end -}}",
            ),
            ("charts/lib/templates/cm.yaml", CM),
        ],
    );
    let out = assert_same(d.path(), &[]);
    assert!(out.contains("name: from-app"));
    // A library chart alone is refused.
    assert_both_fail(
        &d.path().join("charts/lib"),
        &[],
        "library charts are not installable",
    );
}

#[test]
fn hooks_tests_order_and_crds() {
    let d = tempfile::tempdir().unwrap();
    let hook = |kind: &str, name: &str, hook: &str, weight: &str| {
        format!(
            "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: {hook}\n    helm.sh/hook-weight: \"{weight}\"\n"
        )
    };
    let hooks = [
        hook("Pod", "t1", "test", "0"),
        hook("Job", "pre", "pre-install,pre-upgrade", "-1"),
        hook("ConfigMap", "unknown", "not-a-hook", "0"),
        hook("Secret", "post", "post-install", "5"),
    ]
    .join("---\n");
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: h\nversion: 1.0.0\n"),
            (
                "crds/a.yaml",
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.example.com\n",
            ),
            ("crds/notes.txt", "not a manifest"),
            ("templates/hooks.yaml", &hooks),
            (
                "templates/mixed.yaml",
                "# leading comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\n\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\nkind: Zeta\nmetadata:\n  name: z\n---\nkind: Alpha\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n",
            ),
            ("templates/empty.yaml", "{{- if false }}x: 1{{ end }}\n"),
            (
                "templates/NOTES.txt",
                "Thanks for installing {{ .Release.Name }}",
            ),
            ("templates/_partial.yaml", "kind: Secret"),
            (
                "charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            ),
            (
                "charts/sub/crds/b.yaml",
                "kind: CustomResourceDefinition\nmetadata:\n  name: bs.example.com\n",
            ),
            ("charts/sub/templates/cm.yaml", CM),
        ],
    );
    assert_same(d.path(), &[]);
    assert_same(d.path(), &["--include-crds", "--skip-tests"]);
}

#[test]
fn capabilities_release_chart_and_files() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: caps\nversion: 1.2.3-rc.1\nappVersion: \"4.5\"\ndescription: d\nkeywords: [a, b]\nannotations:\n  x/y: z\nmaintainers:\n- name: me\n  email: me@example.com\n",
            ),
            (".helmignore", "*.bak\nignored/\n"),
            ("files/a.txt", "line1\nline2\n"),
            ("files/b.conf", "k=v"),
            ("files/c.bak", "ignored"),
            ("ignored/x.txt", "ignored"),
            (
                "templates/cm.yaml",
                concat!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n",
                    "  kube: \"{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.KubeVersion.GitVersion }}\"\n",
                    "  apps: {{ .Capabilities.APIVersions.Has \"apps/v1\" | quote }}\n",
                    "  custom: {{ .Capabilities.APIVersions.Has \"example.com/v1\" | quote }}\n",
                    "  release: \"{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.IsInstall }} {{ .Release.IsUpgrade }} {{ .Release.Revision }} {{ .Release.Service }}\"\n",
                    "  chart: \"{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.Description }} {{ .Chart.Keywords }} {{ index .Chart.Annotations \"x/y\" }} {{ (index .Chart.Maintainers 0).Email }} {{ .Chart.APIVersion }}\"\n",
                    "  get: {{ .Files.Get \"files/b.conf\" | quote }}\n",
                    "  missing: {{ .Files.Get \"nope\" | quote }}\n",
                    "  lines: \"{{ range .Files.Lines \"files/a.txt\" }}[{{ . }}]{{ end }}\"\n",
                    "  glob: {{ if .Files.Glob \"nomatch/*\" }}yes{{ else }}no{{ end }} {{ if .Files.Glob \"files/*\" }}yes{{ else }}no{{ end }}\n",
                    "  config: {{ (.Files.Glob \"files/*\").AsConfig | quote }}\n",
                    "  secrets: {{ (.Files.Glob \"files/*\").AsSecrets | quote }}\n",
                    "  bytes: {{ .Files.GetBytes \"files/b.conf\" | len }}\n",
                ),
            ),
        ],
    );
    assert_same(d.path(), &[]);
    assert_same(
        d.path(),
        &[
            "--kube-version",
            "v1.31.4",
            "--api-versions",
            "example.com/v1",
        ],
    );
}

#[test]
fn ranging_over_files_glob_gives_sorted_paths_and_byte_slices() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: globby\nversion: 0.1.0\n",
            ),
            ("x/a.txt", "alpha\n"),
            ("x/b.yaml", "b: 2\n"),
            ("x/sub/c.txt", "deep"),
            ("y/bin.dat", "\u{1}\u{2}bin"),
            ("templates/cm.yaml", FILES_GLOB_TEMPLATE),
        ],
    );
    let out = assert_same(d.path(), &[]);
    assert!(out.contains("x/a.txt=alpha 6 []uint8"), "{out}");
}

/// `.Files.Glob` results ranged over, measured, indexed, tested and converted.
const FILES_GLOB_TEMPLATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: globby
data:
  ranged: |-
{{- range $path, $bytes := .Files.Glob "x/*" }}
    {{ $path }}={{ $bytes | toString | trim }} {{ len $bytes }} {{ printf "%T" $bytes }}
{{- end }}
  single: "{{ range .Files.Glob "x/**" }}[{{ . | toString | trim }}]{{ end }}"
  count: {{ len (.Files.Glob "x/*") | quote }}
  empty: {{ if .Files.Glob "none/*" }}yes{{ else }}no{{ end }}
  nonempty: {{ if .Files.Glob "x/*" }}yes{{ else }}no{{ end }}
  rangeempty: {{ range .Files.Glob "none/*" }}x{{ else }}none{{ end }}
  type: {{ printf "%T" (.Files.Glob "x/*") | quote }}
  emptytype: {{ printf "%T" (.Files.Glob "none/*") | quote }}
  emptyconfig: {{ (.Files.Glob "none/*").AsConfig | quote }}
  idx: {{ index (.Files.Glob "x/*") "x/a.txt" | toString | trim | quote }}
  allfiles: "{{ range $p, $_ := .Files }}{{ $p }},{{ end }}"
  rawbytes: "{{ range $p, $b := .Files.Glob "y/*" }}{{ $b }}{{ end }}"
  keysvar: "{{ range $p := .Files.Glob "x/*" }}{{ $p | toString | trim }};{{ end }}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: globby-config
data:
{{ (.Files.Glob "x/*").AsConfig | indent 2 }}
---
apiVersion: v1
kind: Secret
metadata:
  name: globby-secret
data:
{{ (.Files.Glob "x/**").AsSecrets | indent 2 }}
"#;

#[test]
fn printf_type_verb_tells_go_integer_widths_apart() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: tt\nversion: 0.1.0\n"),
            (
                "values.yaml",
                "i: 1\nf: 1.5\nbig: 1000000\nneg: -3\nl: [1, 2]\n",
            ),
            ("data.bin", "hi"),
            ("templates/t.yaml", INT_TYPES_TEMPLATE),
        ],
    );
    let out = assert_same(
        d.path(),
        &[
            "--set",
            "s1=5",
            "--set",
            "s2=5.5",
            "--set",
            "s3=9999999999999999999",
            "--set-json",
            "s4=7",
        ],
    );
    assert!(out.contains("# 6 int64\n"), "{out}");
    // A typed parameter takes only its own width, as in Go.
    write(
        d.path(),
        &[("templates/t.yaml", "a: {{ trunc .Values.s1 \"abcdef\" }}\n")],
    );
    assert_both_fail(
        d.path(),
        &["--set", "s1=2"],
        "wrong type for value; expected int; got int64",
    );
}

/// `%T`, `typeOf`, `kindOf`, DeepEqual and `duration` over values of each origin.
const INT_TYPES_TEMPLATE: &str = r#"{{- $t := list
  (printf "%T" .Values.i) (printf "%T" .Values.f) (printf "%T" .Values.big) (printf "%T" .Values.neg)
  (printf "%T" 1) (printf "%T" (len "ab")) (printf "%T" (add 1 2)) (printf "%T" (sub 3 1)) (printf "%T" (mul 2 3))
  (printf "%T" (div 6 2)) (printf "%T" (mod 7 2)) (printf "%T" (add1 1)) (printf "%T" (max 1 2)) (printf "%T" (min 1 2))
  (printf "%T" (atoi "3")) (printf "%T" (int "3")) (printf "%T" (int64 "3")) (printf "%T" (float64 "3"))
  (printf "%T" (toDecimal "777")) (printf "%T" (randInt 1 5)) (printf "%T" (index (until 3) 0))
  (printf "%T" (index "abc" 0)) (printf "%T" .Release.Revision) (printf "%T" (now | unixEpoch)) (printf "%T" (now).Unix) (printf "%T" (now).Year)
  (printf "%T" (semver "1.2.3").Major) (printf "%T" (fromYaml "a: 1").a) (printf "%T" (fromJson "{\"a\": 1}").a) (printf "%T" (index .Values.l 0))
  (printf "%T" (ceil 1.5)) (printf "%T" (round 1.5 0)) (printf "%T" (seq 1 3)) (printf "%T" (index (untilStep 0 4 2) 0))
  (printf "%T" (biggest 1 2)) (printf "%T" (addf 1 2)) (printf "%T" (floor 1.5)) (printf "%T" (len .Values.l)) (printf "%T" (toString 1))
  (printf "%T" (index (fromYamlArray "[1]") 0)) (printf "%T" (int .Values.i)) (printf "%T" (int64 .Values.i))
  (printf "%T" (add .Values.i 1)) (printf "%T" (default 5 .Values.missing)) (printf "%T" (first (list 1 2))) (printf "%T" (index (list (add 1 1)) 0))
  (printf "%T" (now).Nanosecond) (printf "%T" (now).UnixNano) (printf "%T" ((semver "1.2.3").Compare (semver "1.0.0")))
  (printf "%T" .Values.s1) (printf "%T" .Values.s2) (printf "%T" .Values.s3) (printf "%T" .Values.s4)
  (kindOf 1) (kindOf (add 1 1)) (kindOf .Values.s1) (kindOf (index "a" 0)) (typeOf (add 1 1)) (typeOf (atoi "1")) (typeOf (int64 1))
  (typeIs "int64" .Values.s1) (kindIs "int" 5) (has 1 (list (add 0 1))) (has (add 0 1) (list (int64 1))) (has 1 (list 1))
  (uniq (list 1 (int64 1) 1) | len) (eq 1 (add 0 1)) (duration 95) (duration (int64 95)) (duration .Values.s1) (durationRound 5)
  (printf "%T" (get (dict "a" (add 1 1)) "a")) (printf "%v %d %x" (add 250 5) (int64 7) (index "A" 0)) (printf "%T" (toToml (dict "a" 1) | fromYaml).a)
}}
{{- range $i, $v := $t }}
# {{ $i }} {{ $v }}
{{- end }}
{{- range $i, $b := .Files.GetBytes "data.bin" }} {{ printf "%T" $i }}/{{ printf "%T" $b }}{{ end }}
{{- range $v := add 0 2 }} {{ printf "%T" $v }}{{ end }}
{{- range $v := 2 }} {{ printf "%T" $v }}{{ end }}
"#;

#[test]
fn dependency_and_kube_version_ranges_follow_masterminds() {
    let d = tempfile::tempdir().unwrap();
    let deps = [
        ("tilde", "1.2.9", "~1.2.3"),
        ("caret", "0.2.9", "^0.2.3"),
        ("caretmiss", "0.3.0", "^0.2.3"),
        ("xrange", "2.31.4", "2.x.x"),
        ("hyphen", "1.5.0", "1.0 - 2.0"),
        ("orrange", "3.4.0", ">1.0, <2.0 || 3.x"),
        ("pre", "1.5.0-rc.1", ">=1.0.0"),
        ("prewanted", "1.5.0-rc.1", ">=1.0.0-0"),
        ("vprefix", "1.2.0", "v1.2"),
    ];
    let mut chart = String::from(
        "apiVersion: v2\nname: top\nversion: 1.0.0\nkubeVersion: '>= 1.19.0-0, < 1.40.0-0'\ndependencies:\n",
    );
    let mut files: Vec<(String, String)> = Vec::new();
    for (name, version, range) in deps {
        // A matching range renames the subchart to its alias; a miss keeps the chart as is.
        chart.push_str(&format!(
            "- name: {name}\n  version: '{range}'\n  alias: {name}-alias\n"
        ));
        files.push((
            format!("charts/{name}/Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        ));
        files.push((format!("charts/{name}/templates/cm.yaml"), CM.to_string()));
    }
    files.push(("Chart.yaml".into(), chart));
    files.push((
        "templates/cm.yaml".into(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: top\ndata:\n  subcharts: {{ keys .Subcharts | sortAlpha | join \",\" }}\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write(d.path(), &refs);
    let out = assert_same(d.path(), &["--kube-version", "v1.33.0"]);
    assert!(out.contains("tilde-alias"), "{out}");
    assert_both_fail(
        d.path(),
        &["--kube-version", "v1.40.0"],
        "chart requires kubeVersion",
    );
    assert_both_fail(
        d.path(),
        &["--kube-version", "1.18.9"],
        "chart requires kubeVersion",
    );
    // A chart version Masterminds cannot parse is refused.
    write(
        d.path(),
        &[(
            "charts/tilde/Chart.yaml",
            "apiVersion: v2\nname: tilde\nversion: 1.2.3.4\n",
        )],
    );
    assert_both_fail(d.path(), &["--kube-version", "v1.33.0"], "1.2.3.4");
}

#[test]
fn call_on_values_fails_like_helm() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: tt\nversion: 0.1.0\n"),
            ("values.yaml", "i: 1\n"),
            ("templates/t.yaml", "a: {{ call .Values.i }}\n"),
        ],
    );
    assert_both_fail(
        d.path(),
        &[],
        r#"template: tt/templates/t.yaml:1:6: executing "tt/templates/t.yaml" at <call .Values.i>: error calling call: non-function .Values.i of type float64"#,
    );
    write(
        d.path(),
        &[("templates/t.yaml", "a: {{ call .Values.nope }}\n")],
    );
    assert_both_fail(
        d.path(),
        &[],
        r#"at <call .Values.nope>: error calling call: call of nil"#,
    );
}

#[test]
fn v1_chart_with_requirements_yaml() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v1\nname: old\nversion: 0.1.0\n"),
            (
                "requirements.yaml",
                "dependencies:\n- name: dep\n  version: 1.0.0\n  condition: dep.enabled\n",
            ),
            ("values.yaml", "dep:\n  enabled: true\n"),
            ("templates/cm.yaml", CM),
            (
                "charts/dep/Chart.yaml",
                "apiVersion: v1\nname: dep\nversion: 1.0.0\n",
            ),
            ("charts/dep/templates/cm.yaml", CM),
        ],
    );
    assert_same(d.path(), &[]);
    assert_same(d.path(), &["--set", "dep.enabled=false"]);
}

#[test]
fn packaged_charts_and_tgz_dependencies() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    write(
        &src,
        &[
            ("Chart.yaml", "apiVersion: v2\nname: pkg\nversion: 1.0.0\n"),
            ("templates/cm.yaml", CM),
        ],
    );
    // A .tgz with the chart under its name, as `helm package` lays it out.
    let tgz = d.path().join("pkg-1.0.0.tgz");
    let f = std::fs::File::create(&tgz).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    b.append_dir_all("pkg", &src).unwrap();
    b.into_inner().unwrap().finish().unwrap();
    assert_same(&tgz, &[]);
    // The same archive as a dependency in charts/.
    let parent = d.path().join("parent");
    write(
        &parent,
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: parent\nversion: 1.0.0\n",
            ),
            ("templates/cm.yaml", CM),
        ],
    );
    std::fs::create_dir_all(parent.join("charts")).unwrap();
    std::fs::copy(&tgz, parent.join("charts/pkg-1.0.0.tgz")).unwrap();
    assert_same(&parent, &[]);
}

#[test]
fn failures_match_helm() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: bad\nversion: 1.0.0\ndependencies:\n- name: missing\n  version: 1.0.0\n",
            ),
            ("templates/cm.yaml", CM),
        ],
    );
    assert_both_fail(d.path(), &[], "missing in charts/ directory: missing");

    let s = tempfile::tempdir().unwrap();
    write(
        s.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: schema\nversion: 1.0.0\n",
            ),
            ("values.yaml", "replicas: 1\n"),
            (
                "values.schema.json",
                r#"{"$schema": "http://json-schema.org/schema#", "type": "object", "properties": {"replicas": {"type": "integer"}}}"#,
            ),
            ("templates/cm.yaml", CM),
            (
                "templates/req.yaml",
                "{{ if .Values.fail }}{{ required \"fail is set\" nil }}{{ end }}",
            ),
        ],
    );
    assert_same(s.path(), &[]);
    assert_both_fail(s.path(), &["--set", "replicas=many"], "replicas");
    assert_both_fail(
        s.path(),
        &["--set", "fail=true"],
        "execution error at (schema/templates/req.yaml:1:",
    );
    assert_both_fail(s.path(), &["--set", "a[0"], "failed parsing --set data");

    let k = tempfile::tempdir().unwrap();
    write(
        k.path(),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: kv\nversion: 1.0.0\nkubeVersion: '>= 1.30.0-0'\n",
            ),
            ("templates/cm.yaml", CM),
        ],
    );
    assert_both_fail(k.path(), &[], "chart requires kubeVersion");
    assert_same(k.path(), &["--kube-version", "1.31"]);

    let y = tempfile::tempdir().unwrap();
    write(
        y.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: yaml\nversion: 1.0.0\n"),
            (
                "templates/bad.yaml",
                "kind: A\nmetadata:\n  annotations:\n    num: [1]\n",
            ),
        ],
    );
    assert_both_fail(y.path(), &[], "YAML parse error on yaml/templates/bad.yaml");
}

#[test]
fn values_are_read_like_helm_yaml_1_1_and_float64() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: v\nversion: 1.0.0\n"),
            (
                "values.yaml",
                "y: 1\non: yes\nbig: 1000000\nfrac: 1.50\noct: 0777\nstr: \"010\"\nnul: ~\nlist: [a, 2]\n",
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\ndata:\n  json: {{ toJson .Values | quote }}\n  big: {{ .Values.big | quote }}\n  yaml: |\n    {{- toYaml .Values | nindent 4 }}\n",
            ),
        ],
    );
    assert_same(d.path(), &[]);
    assert_same(d.path(), &["--set", "big=1000000,n=007,f=1.5"]);
}
