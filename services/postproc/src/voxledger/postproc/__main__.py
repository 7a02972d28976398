from voxledger.postproc.app import main

main()
