module ferroflux.dev/hack/bench/go-rsa-keygen

go 1.26
