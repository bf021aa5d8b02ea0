package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/enums"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/ref"
)

func newCatalogCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Manage the data mesh catalog: domains, data products, contracts",
		Example: `  factoryctl catalog domain list
  factoryctl catalog product get sales/orders
  factoryctl catalog contract apply -f orders.odcs.yaml`,
		Args: noArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(newDomainCmd(a), newProductCmd(a), newContractCmd(a))
	cmd.AddCommand(newGrantCmds(a)...)
	return cmd
}

// withCatalog dials the mesh and runs fn with a catalog client.
func (a *app) withCatalog(fn func(catalogv1.CatalogServiceClient) error) error {
	conn, err := a.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(catalogv1.NewCatalogServiceClient(conn))
}

// unary runs one call bounded by --timeout.
func unary[Req, Resp any](a *app, cmd *cobra.Command, call func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	ctx, cancel := a.callContext(cmd)
	defer cancel()
	return call(ctx, req)
}

// productArg parses a DOMAIN/NAME argument, as a usage error.
func productArg(s string) (ref.Product, error) {
	p, err := ref.ParseProduct(s)
	if err != nil {
		return ref.Product{}, &usageError{err}
	}
	return p, nil
}

// enumArg parses an enum positional argument, as a usage error naming it.
func enumArg(name string, d protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	n, err := enums.Parse(d, s)
	if err != nil {
		return 0, usageErrorf("%s: %v", name, err)
	}
	return n, nil
}

// paging collects every page of a listing, or the first limit items when
// limit > 0.
func paging[T any](limit int, fetch func(pageSize int32, token string) (items []T, next string, err error)) ([]T, error) {
	var all []T
	token := ""
	for {
		size := int32(0) // the server's default
		if limit > 0 {
			size = int32(min(limit-len(all), 500))
		}
		items, next, err := fetch(size, token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if limit > 0 && len(all) >= limit {
			return all[:limit], nil
		}
		if next == "" {
			return all, nil
		}
		if next == token {
			return nil, fmt.Errorf("the server returned the same page token %q twice", next)
		}
		token = next
	}
}
