package report

import "html/template"

// page is what the template renders.
type page struct {
	Title    string
	Sections []section
}

// section is one numbered part of the report; ID is its HTML id (overview, metrics,
// learning, equity, distributions, market, series, threads, sweep).
type section struct {
	ID, Title string
	Intro     []string
	Blocks    []block
}

// block is one item of a section: exactly one field is set.
type block struct {
	Table   *table
	Figure  *figure
	Details *details
	Note    string
	Warn    bool
}

type table struct {
	Caption string
	Head    []string
	Rows    [][]cell
}

type cell struct {
	Text  string
	Num   bool
	Class string
}

type figure struct {
	Src, Alt, Caption string
}

type details struct {
	Summary, Text string
}

// pageTemplate is the whole report: one self-contained HTML file with inline CSS, no
// script and no external URL; images are relative links into img/.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hivegym report">
<title>{{.Title}}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: #1a1a1a; margin: 0; background: #fafafa; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5em 2em 4em; background: #fff; }
h1 { font-size: 1.6em; margin: 0.2em 0 0.6em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 2px solid #1f77b4; padding-bottom: 0.2em; }
nav ol { columns: 3; font-size: 0.95em; padding-left: 1.4em; }
nav a, a { color: #1f5f94; }
table { border-collapse: collapse; margin: 0.8em 0 1.4em; font-size: 0.9em; }
caption { caption-side: top; text-align: left; color: #444; padding-bottom: 0.35em; font-size: 0.95em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path { font-family: monospace; font-size: 0.9em; color: #555; }
td.bad, p.warn { color: #b00020; }
figure { margin: 1em 0 1.8em; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { color: #333; font-size: 0.92em; max-width: 60em; margin-top: 0.4em; }
p.note { color: #333; }
details { margin: 0.5em 0; }
summary { cursor: pointer; color: #1f5f94; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.82em; max-height: 30em; }
footer { margin-top: 3em; color: #777; font-size: 0.85em; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<nav><ol>{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}</ol></nav>
{{range $i, $s := .Sections}}
<section id="{{$s.ID}}">
<h2>{{$s.Title}}</h2>
{{- range $s.Intro}}
<p>{{.}}</p>
{{- end}}
{{- range $s.Blocks}}
{{- if .Table}}
<table>
<caption>{{.Table.Caption}}</caption>
<thead><tr>{{range .Table.Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Table.Rows}}
<tr>{{range .}}<td{{if .Num}} class="num"{{else if .Class}} class="{{.Class}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- else if .Figure}}
<figure>
<img src="{{.Figure.Src}}" alt="{{.Figure.Alt}}">
<figcaption>{{.Figure.Caption}}</figcaption>
</figure>
{{- else if .Details}}
<details><summary>{{.Details.Summary}}</summary>
<pre>{{.Details.Text}}</pre>
</details>
{{- else if .Warn}}
<p class="warn">{{.Note}}</p>
{{- else if .Note}}
<p class="note">{{.Note}}</p>
{{- end}}
{{- end}}
</section>
{{end}}
<footer>Written by <code>hivegym report</code>. File formats: docs/run-dir.md; sections and figures: docs/report.md.</footer>
</main>
</body>
</html>
`))
