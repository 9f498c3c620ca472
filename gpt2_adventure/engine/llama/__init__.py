"""llama.cpp in this process: the backend, its model thread, sampler chain, KV state on
disk, logs and hardware."""
