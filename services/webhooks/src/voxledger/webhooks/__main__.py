from voxledger.webhooks.app import main

main()
