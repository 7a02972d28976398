from voxledger.transcriber.live.app import main

main()
