package abi

// GetSharedDataTransient returns the value of key in the data shared by
// every VM of this vm_id, with its compare-and-swap token
// (proxy_get_shared_data); ErrNotFound when absent. The value lives in
// memory the guest reuses: it is valid only until the outermost callback
// running now returns, and reading it allocates nothing once the arena has
// grown.
func GetSharedDataTransient(key string) ([]byte, uint32, error) {
	arenaArmed = true
	b, cas, err := getSharedData(key)
	arenaArmed = false
	return b, cas, err
}

func getSharedData(key string) ([]byte, uint32, error) {
	mark := pinMark()
	defer unpin(mark)
	if err := Status(proxyGetSharedData(stringData(key), uint32(len(key)), &out.ptr, &out.size, &out.u32)).Err(); err != nil {
		return nil, 0, err
	}
	b, err := take(mark, out.ptr, out.size)
	return b, out.u32, err
}

// SetSharedData stores value under key (proxy_set_shared_data). A non-zero
// cas must be the token GetSharedDataTransient returned, else the host
// answers CasMismatch; 0 writes unconditionally.
func SetSharedData(key string, value []byte, cas uint32) error {
	return Status(proxySetSharedData(stringData(key), uint32(len(key)), sliceData(value), uint32(len(value)), cas)).Err()
}
