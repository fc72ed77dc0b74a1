package plugin

import (
	"reflect"
	"testing"
	"unsafe"
)

// fill sets every field of v, exported or not, to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			fill(t, reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem())
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(1)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(t, v.Index(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	default:
		t.Fatalf("fill: no non-zero value for %s", v.Type())
	}
}

// reset must leave a used stream exactly as a new one: a field it forgets
// would carry one request's state into another's. The transient request
// view is dropped by OnRequestHeaders itself (dropHeaders), before any
// reset.
func TestStreamReset(t *testing.T) {
	var s stream
	fill(t, reflect.ValueOf(&s).Elem())
	if reflect.ValueOf(s).IsZero() {
		t.Fatal("fill left the stream zero")
	}
	s.dropHeaders()
	s.reset()
	v := reflect.ValueOf(s)
	for i := 0; i < v.NumField(); i++ {
		if !v.Field(i).IsZero() {
			t.Errorf("reset left stream.%s set", v.Type().Field(i).Name)
		}
	}
}

// The plan's fields are cleared one by one: a field added to plan and not
// to reset fails here.
func TestStreamReset_plan(t *testing.T) {
	var s stream
	fill(t, reflect.ValueOf(&s.plan).Elem())
	s.reset()
	v := reflect.ValueOf(s.plan)
	for i := 0; i < v.NumField(); i++ {
		if !v.Field(i).IsZero() {
			t.Errorf("reset left plan.%s set", v.Type().Field(i).Name)
		}
	}
}
