from voxledger.projector.app import main

main()
