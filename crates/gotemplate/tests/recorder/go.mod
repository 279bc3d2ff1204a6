module ferroflux/gotemplate-recorder

go 1.26
