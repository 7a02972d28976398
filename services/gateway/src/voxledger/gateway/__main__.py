from voxledger.gateway.app import main

main()
