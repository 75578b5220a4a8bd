module go-cli

go 1.24
