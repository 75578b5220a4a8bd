module warpgrid.dev/sdk

go 1.24
