from voxledger.keys.app import main

main()
