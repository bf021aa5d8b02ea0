// Package proto_test checks that the committed generated Go in gen/go
// matches the .proto sources: a .proto edited without `make proto` fails
// here, on any machine, without protoc or buf.
package proto_test

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// Every generated package, so its descriptors are registered.
	_ "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	_ "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	_ "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

func TestGeneratedCodeIsCurrent(t *testing.T) {
	var sources []string
	err := filepath.WalkDir("aifactory", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".proto" {
			sources = append(sources, filepath.ToSlash(path))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatal("no .proto sources found")
	}
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{"."}}),
	}
	files, err := compiler.Compile(t.Context(), sources...)
	if err != nil {
		t.Fatalf("compile protos: %v", err)
	}
	for _, f := range files {
		path := f.Path()
		gen, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil {
			t.Errorf("%s: no generated Go is registered (new file? run make proto and import it here): %v", path, err)
			continue
		}
		want, got := normalize(f), normalize(gen)
		if !proto.Equal(want, got) {
			t.Errorf("%s: proto/gen/go is stale: run `make proto` and commit the result", path)
		}
	}
}

// normalize drops what generated code does not keep (source info) and what
// compilers fill in differently (json_name).
func normalize(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	p := protodesc.ToFileDescriptorProto(fd)
	p.SourceCodeInfo = nil
	for _, m := range p.GetMessageType() {
		clearJSONNames(m)
	}
	return p
}

func clearJSONNames(m *descriptorpb.DescriptorProto) {
	for _, f := range m.GetField() {
		f.JsonName = nil
	}
	for _, n := range m.GetNestedType() {
		clearJSONNames(n)
	}
}
