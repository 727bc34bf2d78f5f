// Package openapitest checks JSON values against the slurmrestd OpenAPI
// documents kept in internal/slurm/testdata/openapi (see the README there):
// the JSON Schema of a named component, and, stricter than the documents
// themselves (which allow any extra property), that every property of an
// object is one the schema declares, so that a misspelt field is caught.
//
// It is for tests only and must never be imported by non-test code.
package openapitest
