package experiments

import (
	"bytes"
	"errors"
	"io"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// DecodeStrict decodes src, one YAML document named file in errors, into dst (a pointer
// to a struct) the way config files are decoded: an unknown key (valid keys listed), a
// value of the wrong type, a second document or an anchor is an *Error naming the file,
// the line and the key. It returns the document's root node, for locating later
// validation errors with LocateNode, or nil for an empty document (dst unchanged).
func DecodeStrict(file string, src []byte, dst any) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	if line, err := secondDocument(dec); err != nil {
		return nil, yamlError(file, err)
	} else if line > 0 {
		return nil, &Error{File: file, Line: line, Msg: "the file is one YAML document, but a second one starts here (a '---' line)"}
	}
	if doc.Kind == 0 {
		return nil, nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: "the file must be a mapping of keys to values"}
	}
	if err := noAnchors(file, root); err != nil {
		return nil, err
	}
	if err := checkKeys(file, root, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return nil, err
	}
	if err := root.Decode(dst); err != nil {
		return nil, yamlError(file, err)
	}
	return root, nil
}

func noAnchors(file string, n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &Error{File: file, Line: n.Line, Msg: "YAML anchors and aliases are not allowed here"}
	}
	for _, c := range n.Content {
		if err := noAnchors(file, c); err != nil {
			return err
		}
	}
	return nil
}

// LocateNode turns err (fieldpath errors with paths from root) into *Error values with
// the file and the line of each key in root (see Locate).
func LocateNode(file string, root *yaml.Node, err error) error {
	if err == nil {
		return nil
	}
	if root == nil {
		root = &yaml.Node{}
	}
	return locate(file, root, err)
}
