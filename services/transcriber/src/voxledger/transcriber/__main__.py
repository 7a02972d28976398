from voxledger.transcriber.app import main

main()
